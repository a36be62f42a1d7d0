import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What every log line of one unit of work (an HTTP request, a message) carries. */
export interface CorrelationContext {
  correlationId: string;
  messageId?: string;
}

const storage = new AsyncLocalStorage<CorrelationContext>();

export const CORRELATION_HEADER = 'x-correlation-id';

/** Runs `fn` with `context` as the current correlation context. */
export function runWithCorrelation<T>(context: CorrelationContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentCorrelation(): CorrelationContext | undefined {
  return storage.getStore();
}

/** The current correlation id, or a new one when no unit of work is under way. */
export function correlationId(): string {
  return storage.getStore()?.correlationId ?? randomUUID();
}
