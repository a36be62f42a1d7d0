import { context, diag, DiagLogLevel, propagation, SpanKind, SpanStatusCode, trace, Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  ExportResult,
  ExportResultCode,
  hrTimeToMilliseconds,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { TracingSettings } from './tracing-settings';

/**
 * The SDK side of tracing, loaded only when tracing is on. The standard variables are read by the
 * SDK itself (`OTEL_TRACES_SAMPLER`/`_ARG`, `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_*`,
 * `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME`); this file decides whether tracing is on and
 * which exporters to build.
 */

/** Registers the tracer provider, the W3C propagators and the async context manager globally. */
export function startSdk(app: string, settings: TracingSettings, logger: Logger): { tracer: Tracer; shutdown: () => Promise<void> } {
  diag.setLogger(
    {
      error: (message) => logger.warn({ msg: `tracing: ${message}` }),
      warn: (message) => logger.warn({ msg: `tracing: ${message}` }),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the app's own name.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: app, 'service.instance.id': randomUUID() }))
    .merge(detectResources({ detectors: [envDetector] }));
  const exporters = settings.exporters.map((name): SpanExporter => {
    switch (name) {
      case 'otlp':
        return new OTLPTraceExporter();
      case 'console':
        return new ConsoleSpanExporter();
      case 'file':
        // `{app}` in the path gives each app a file of its own when all share one environment (`npm start`).
        return new JsonLinesFileExporter(settings.file!.replaceAll('{app}', app));
    }
  });
  // The sampler comes from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default: parent-based, always on).
  const provider = new BasicTracerProvider({ resource, spanProcessors: exporters.map((exporter) => new BatchSpanProcessor(exporter)) });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer('retail'),
    shutdown: async () => {
      await provider.shutdown().catch((error: Error) => logger.warn({ msg: `tracing: could not export the last spans: ${error.message}` }));
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** One span as the `file` exporter writes it: one JSON object per line. */
export interface SpanLine {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
  service: string;
  start: string;
  durationMs: number;
  status: 'UNSET' | 'OK' | 'ERROR';
  statusMessage?: string;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  events: { name: string; attributes?: Record<string, unknown> }[];
}

export function toSpanLine(span: ReadableSpan): SpanLine {
  const { traceId, spanId } = span.spanContext();
  return {
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: SpanKind[span.kind] as SpanLine['kind'],
    service: String(span.resource.attributes[ATTR_SERVICE_NAME] ?? ''),
    start: new Date(hrTimeToMilliseconds(span.startTime)).toISOString(),
    durationMs: Math.round(hrTimeToMilliseconds(span.duration) * 1000) / 1000,
    status: SpanStatusCode[span.status.code] as SpanLine['status'],
    ...(span.status.message ? { statusMessage: span.status.message } : {}),
    attributes: { ...span.attributes },
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
    events: span.events.map((event) => ({ name: event.name, ...(event.attributes ? { attributes: { ...event.attributes } } : {}) })),
  };
}

/**
 * Appends each finished span to a file as one JSON line: for tests, and for a look at the spans
 * of one machine without a collector. Writes are serialised, so lines never interleave.
 */
export class JsonLinesFileExporter implements SpanExporter {
  private writing: Promise<void>;

  constructor(private readonly path: string) {
    this.writing = mkdir(dirname(path), { recursive: true }).then(() => undefined);
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const text = spans.map((span) => JSON.stringify(toSpanLine(span))).join('\n') + '\n';
    this.writing = this.writing
      .then(() => appendFile(this.path, text))
      .then(
        () => done({ code: ExportResultCode.SUCCESS }),
        (error: Error) => done({ code: ExportResultCode.FAILED, error }),
      );
  }

  forceFlush(): Promise<void> {
    return this.writing.catch(() => undefined);
  }

  shutdown(): Promise<void> {
    return this.forceFlush();
  }
}
