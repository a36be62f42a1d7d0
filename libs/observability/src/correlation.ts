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
  return acceptCorrelationId(storage.getStore()?.correlationId);
}

/**
 * What a correlation id taken from outside (an HTTP header, a message property or header) may look
 * like. It is copied into AMQP short strings (255 bytes at most), Kafka headers, SMTP headers and
 * log lines, so anything else is replaced by a fresh id rather than copied.
 */
const SAFE_CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** `value` when it is a safe correlation id, otherwise a fresh one. */
export function acceptCorrelationId(value: unknown): string {
  return typeof value === 'string' && SAFE_CORRELATION_ID.test(value) ? value : randomUUID();
}
