import {
  Attributes,
  context,
  Context,
  createContextKey,
  Link,
  propagation,
  ROOT_CONTEXT,
  Span,
  SpanKind,
  SpanStatusCode,
  TextMapGetter,
  trace,
  TraceFlags,
  Tracer,
} from '@opentelemetry/api';
import type { Logger } from 'pino';
import { currentCorrelation } from './correlation';
import { tracingSettings } from './tracing-settings';

/**
 * Tracing with OpenTelemetry, off unless the standard `OTEL_*` variables turn it on (see
 * docs/tracing.md). Everything here is a no-op while it is off, and the hot paths (a Kafka
 * batch, a RabbitMQ delivery, a publish) check {@link tracingOn} first, so that with tracing off
 * they allocate nothing for it. The SDK itself is loaded only when tracing is on (tracing-sdk.ts).
 */

/** The span attribute that carries the correlation id (the same id as in the logs and the `x-correlation-id` header). */
export const CORRELATION_ATTRIBUTE = 'correlation.id';

/** Spans of Cassandra statements (and other leaf client spans) under one entry span, at most; the rest are counted on it. */
export const CHILD_SPAN_BUDGET = 64;
/** Producer contexts linked from one batch span, at most (distinct ones; the rest are counted). */
export const MAX_BATCH_LINKS = 32;

let tracer: Tracer | undefined;
let stopSdk: (() => Promise<void>) | undefined;

/** True when an SDK was started: only then is any span created. */
export function tracingOn(): boolean {
  return tracer !== undefined;
}

/**
 * Starts the SDK when the environment asks for tracing (`OTEL_TRACES_EXPORTER`, or an OTLP
 * endpoint); does nothing otherwise. Throws, naming the variable, on a setting it cannot honour.
 * Once per process; call before the app handles any work.
 */
export async function startTracing(app: string, logger: Logger, source: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (tracer) return true;
  const settings = tracingSettings(source);
  if (!settings) return false;
  const { startSdk } = await import('./tracing-sdk');
  const started = startSdk(app, settings, logger);
  tracer = started.tracer;
  stopSdk = started.shutdown;
  logger.info({ exporters: settings.exporters }, 'tracing on');
  return true;
}

/** Exports the spans still buffered and stops the SDK (on shutdown). */
export async function stopTracing(): Promise<void> {
  const stop = stopSdk;
  tracer = undefined;
  stopSdk = undefined;
  await stop?.();
}

/** What one span is about: its name, kind and attributes; the correlation id is added from the current context. */
export interface SpanSpec {
  name: string;
  kind: SpanKind;
  attributes?: Attributes;
  /** The correlation id, when it is not (yet) the current one. */
  correlationId?: string;
  links?: Link[];
}

interface Budget {
  left: number;
  dropped: number;
}
const BUDGET = createContextKey('retail.child-span-budget');

/**
 * A span that starts a unit of work in this process (an HTTP request, a delivery, a batch),
 * child of `parent` (a context extracted from the carrier, or the root). Returns the context to
 * run the work in: the span is current there, with a fresh budget of child spans. Tracing must be on.
 */
export function startEntrySpan(spec: SpanSpec, parent: Context = ROOT_CONTEXT): { span: Span; context: Context } {
  const span = tracer!.startSpan(spec.name, { kind: spec.kind, attributes: withCorrelation(spec), links: spec.links }, parent);
  const budget: Budget = { left: CHILD_SPAN_BUDGET, dropped: 0 };
  return { span, context: trace.setSpan(parent, span).setValue(BUDGET, budget) };
}

/** A span for an outgoing call (RPC request, publish) under the current context. Tracing must be on. */
export function startClientSpan(spec: SpanSpec): Span {
  return tracer!.startSpan(spec.name, { kind: spec.kind, attributes: withCorrelation(spec), links: spec.links });
}

/**
 * A leaf span (a Cassandra statement) under the current span, or undefined: when there is no
 * sampled span to hang it on (readiness probes, timers, start-up), or when the current unit of
 * work has used up its budget of child spans (a batch of thousands of statements).
 */
export function startLeafSpan(spec: SpanSpec): Span | undefined {
  if (!tracer) return undefined;
  const active = context.active();
  // Sampled, not recording: work started by a request goes on after its span ended (the saga after the RPC answered).
  const parent = trace.getSpan(active)?.spanContext();
  if (!parent || (parent.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  const budget = active.getValue(BUDGET) as Budget | undefined;
  if (budget) {
    if (budget.left <= 0) {
      budget.dropped++;
      return undefined;
    }
    budget.left--;
  }
  return tracer.startSpan(spec.name, { kind: spec.kind, attributes: withCorrelation(spec) });
}

/** Child spans the unit of work of `ctx` did not create because its budget ran out (set on its span when it ends). */
export function droppedChildSpans(ctx: Context): number {
  return (ctx.getValue(BUDGET) as Budget | undefined)?.dropped ?? 0;
}

/** Ends an entry span, noting how many child spans its budget left out. */
export function endEntrySpan(span: Span, ctx: Context): void {
  const dropped = droppedChildSpans(ctx);
  if (dropped > 0) span.setAttribute('retail.child_spans.dropped', dropped);
  span.end();
}

/** Runs `fn` with `ctx` as the current trace context. */
export function runInContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

/**
 * Marks `span` failed with `error`: its type (a DomainError's code, else the error's name) and,
 * unless `withMessage` is false, its message (never a payload).
 */
export function failSpan(span: Span, error: unknown, withMessage = true): void {
  const code = (error as { code?: unknown } | undefined)?.code;
  const type = typeof code === 'string' ? code : error instanceof Error ? error.name : 'error';
  span.setAttribute('error.type', type);
  const message = withMessage ? (error instanceof Error ? error.message : String(error)) : type;
  span.setStatus({ code: SpanStatusCode.ERROR, message: message.slice(0, 300) });
}

/** Sets attributes on the current span, when tracing is on and there is one (an outcome decided deep inside a handler). */
export function annotateActiveSpan(attributes: Attributes, error?: unknown): void {
  if (!tracer) return;
  const span = trace.getActiveSpan();
  if (!span) return;
  span.setAttributes(attributes);
  if (error !== undefined) failSpan(span, error);
}

/** Adds an event (a retry, say) to the current span, when tracing is on and there is one. */
export function addSpanEvent(name: string, attributes: Attributes): void {
  if (!tracer) return;
  trace.getActiveSpan()?.addEvent(name, attributes);
}

/** Writes the W3C trace context of `span` (or of the current context) into `carrier` (AMQP headers, Kafka headers). */
export function injectTraceContext(carrier: Record<string, unknown>, span?: Span): void {
  propagation.inject(span ? trace.setSpan(context.active(), span) : context.active(), carrier);
}

/** A new carrier holding the W3C trace context of `span` (`traceparent`, and `tracestate` when there is one). */
export function traceHeaders(span: Span): Record<string, string> {
  const carrier: Record<string, string> = {};
  injectTraceContext(carrier, span);
  return carrier;
}

/** The W3C trace context carried by message headers (values may be strings or Buffers), or the root. */
export function extractTraceContext(carrier: unknown): Context {
  if (!carrier || typeof carrier !== 'object') return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier, headerGetter);
}

/** One header as a string: AMQP gives strings, Kafka Buffers, HTTP strings or arrays of them. */
function headerValue(carrier: unknown, key: string): string | undefined {
  if (!carrier || typeof carrier !== 'object') return undefined;
  const raw = (carrier as Record<string, unknown>)[key];
  const value = Array.isArray(raw) ? (raw as unknown[])[0] : raw;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  return undefined;
}

const headerGetter: TextMapGetter<unknown> = {
  keys: (carrier) => Object.keys(carrier as object),
  get: headerValue,
};

/**
 * The producers' contexts of one batch, for its one consumer span: distinct contexts only (an
 * upload of 50,000 events is one publish per chunk, so a handful of links), at most
 * {@link MAX_BATCH_LINKS}, the rest counted.
 */
export class BatchLinks {
  private readonly seen = new Set<string>();
  private readonly list: Link[] = [];
  private first?: Context;
  /** Records whose producer context is not linked: past the cap. */
  unlinked = 0;

  /** Adds the context carried by one record's headers, if any. */
  add(headers: unknown): void {
    const raw = headerValue(headers, 'traceparent');
    if (raw === undefined || this.seen.has(raw)) return;
    if (this.list.length >= MAX_BATCH_LINKS) {
      this.unlinked++;
      return;
    }
    const extracted = extractTraceContext(headers);
    const spanContext = trace.getSpanContext(extracted);
    if (!spanContext) return;
    this.seen.add(raw);
    this.first ??= extracted;
    this.list.push({ context: spanContext });
  }

  /** The parent for the batch span: the producer's context when every record came from one publish, else the root (with links). */
  parent(): Context {
    return this.list.length === 1 && this.unlinked === 0 ? this.first! : ROOT_CONTEXT;
  }

  links(): Link[] {
    return this.list.length === 1 && this.unlinked === 0 ? [] : this.list;
  }
}

function withCorrelation(spec: SpanSpec): Attributes {
  const correlationId = spec.correlationId ?? currentCorrelation()?.correlationId;
  return correlationId === undefined ? { ...spec.attributes } : { ...spec.attributes, [CORRELATION_ATTRIBUTE]: correlationId };
}

export { SpanKind };
