/**
 * Whether to trace, and where to, from the standard variables (docs/tracing.md). Kept apart from
 * the SDK (tracing-sdk.ts), which is loaded only when this says tracing is on.
 */

export type TraceExporterName = 'otlp' | 'console' | 'file';
const EXPORTERS: readonly string[] = ['otlp', 'console', 'file', 'none'];

export interface TracingSettings {
  exporters: TraceExporterName[];
  /** `file` exporter: the file it appends one JSON line per span to (`{app}` stands for the app's name). */
  file?: string;
}

const set = (value: string | undefined) => value !== undefined && value.trim() !== '';

/**
 * Whether to trace and where to, from the environment: undefined (off) when `OTEL_SDK_DISABLED`
 * is true, when `OTEL_TRACES_EXPORTER` is `none`, or when it is unset and no OTLP endpoint is set.
 */
export function tracingSettings(source: NodeJS.ProcessEnv): TracingSettings | undefined {
  if (source.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const listed = set(source.OTEL_TRACES_EXPORTER)
    ? source.OTEL_TRACES_EXPORTER!.split(',').map((name) => name.trim().toLowerCase())
    : set(source.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || set(source.OTEL_EXPORTER_OTLP_ENDPOINT)
      ? ['otlp']
      : [];
  const unknown = listed.filter((name) => !EXPORTERS.includes(name));
  if (unknown.length > 0) {
    throw new Error(`OTEL_TRACES_EXPORTER must be a comma-separated list of otlp, console, file or none (got "${unknown.join(',').slice(0, 60)}")`);
  }
  const exporters = [...new Set(listed.filter((name): name is TraceExporterName => name !== 'none'))];
  if (exporters.length === 0) return undefined;
  const protocol = (source.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? source.OTEL_EXPORTER_OTLP_PROTOCOL ?? '').trim();
  if (exporters.includes('otlp') && protocol === 'grpc') {
    throw new Error('OTEL_EXPORTER_OTLP_PROTOCOL: the apps export OTLP over HTTP (port 4318 of a collector), not grpc; use http/json or leave it unset');
  }
  if (exporters.includes('file') && !set(source.TRACES_FILE)) {
    throw new Error('TRACES_FILE must be set to a file path when OTEL_TRACES_EXPORTER includes file');
  }
  return { exporters, file: exporters.includes('file') ? source.TRACES_FILE!.trim() : undefined };
}
