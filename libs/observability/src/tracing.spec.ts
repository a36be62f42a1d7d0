import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BatchLinks, extractTraceContext, MAX_BATCH_LINKS, tracingOn } from './tracing';
import { tracingSettings } from './tracing-settings';

describe(tracingSettings.name, () => {
  it('is off when no OTEL_* variable asks for it, or when told so', () => {
    expect(tracingSettings({})).toBeUndefined();
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingSettings({ OTEL_SERVICE_NAME: 'api', OTEL_TRACES_SAMPLER: 'always_on' })).toBeUndefined();
    expect(tracingOn()).toBe(false);
  });

  it('exports over OTLP when only an endpoint is set, and to every exporter listed', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toEqual({ exporters: ['otlp'] });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toEqual({ exporters: ['otlp'] });
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'console, otlp,console' })).toEqual({ exporters: ['console', 'otlp'] });
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'file', TRACES_FILE: '/tmp/spans.jsonl' })).toEqual({ exporters: ['file'], file: '/tmp/spans.jsonl' });
  });

  it('refuses what it cannot honour, naming the variable', () => {
    expect(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(/^OTEL_TRACES_EXPORTER must be .*\(got "jaeger"\)/);
    expect(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'file' })).toThrow(/^TRACES_FILE must be set/);
    expect(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/^OTEL_EXPORTER_OTLP_PROTOCOL/);
  });
});

describe(BatchLinks.name, () => {
  beforeAll(() => propagation.setGlobalPropagator(new W3CTraceContextPropagator()));
  afterAll(() => propagation.disable());

  const traceparent = (i: number) => `00-${i.toString(16).padStart(32, '0')}-${i.toString(16).padStart(16, '0')}-01`;

  it('makes the one producer of a whole batch its parent', () => {
    const sut = new BatchLinks();
    for (let i = 0; i < 2000; i++) sut.add({ traceparent: Buffer.from(traceparent(7)) });
    sut.add(undefined);
    sut.add({ 'message-id': 'no context' });
    expect(trace.getSpanContext(sut.parent())?.traceId).toBe(traceparent(7).slice(3, 35));
    expect(sut.links()).toEqual([]);
  });

  it('links distinct producers once each, at most MAX_BATCH_LINKS, and counts the records left out', () => {
    const sut = new BatchLinks();
    for (let round = 0; round < 3; round++) for (let i = 1; i <= MAX_BATCH_LINKS + 8; i++) sut.add({ traceparent: traceparent(i) });
    expect(sut.links()).toHaveLength(MAX_BATCH_LINKS);
    expect(new Set(sut.links().map((l) => l.context.spanId)).size).toBe(MAX_BATCH_LINKS);
    expect(sut.unlinked).toBe(3 * 8);
    expect(trace.getSpanContext(sut.parent())).toBeUndefined();
  });

  it('ignores a malformed traceparent', () => {
    const sut = new BatchLinks();
    sut.add({ traceparent: 'not-a-traceparent' });
    expect(sut.links()).toEqual([]);
    expect(trace.getSpanContext(extractTraceContext({ traceparent: '00-zz-yy-01' }))).toBeUndefined();
  });
});
