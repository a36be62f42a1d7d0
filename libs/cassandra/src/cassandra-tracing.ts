import type { Span } from '@opentelemetry/api';
import type { Client, types } from 'cassandra-driver';
import { failSpan, SpanKind, startLeafSpan } from '@app/observability';

/** What a span says of one statement: its operation and table, never its text or values. */
export interface StatementSummary {
  operation: string;
  namespace?: string;
  collection?: string;
}

const OPERATIONS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'BATCH', 'CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'USE', 'GRANT', 'REVOKE']);
const TARGET = /\b(?:FROM|INTO|UPDATE|TABLE(?:\s+IF\s+(?:NOT\s+)?EXISTS)?|INDEX(?:\s+IF\s+(?:NOT\s+)?EXISTS)?\s+\w+\s+ON)\s+("?\w+"?(?:\s*\.\s*"?\w+"?)?)/i;
/** Statements are a few constant strings per repository; the cache stays small unless someone builds text per call. */
const MAX_CACHED = 500;
const summaries = new Map<string, StatementSummary>();

/** The operation (first keyword) and `keyspace.table` of a CQL statement; a constant-time lookup after the first time. */
export function summarizeStatement(query: string, keyspace?: string): StatementSummary {
  const key = `${keyspace ?? ''}|${query}`;
  const cached = summaries.get(key);
  if (cached) return cached;
  const keyword = /^\s*([A-Za-z]+)/.exec(query)?.[1]?.toUpperCase() ?? '';
  const operation = keyword === 'BEGIN' ? 'BATCH' : OPERATIONS.has(keyword) ? keyword : 'QUERY';
  const target = TARGET.exec(query)?.[1]?.replace(/["\s]/g, '');
  const [first, second] = target?.split('.') ?? [];
  const summary: StatementSummary =
    second !== undefined ? { operation, namespace: first, collection: second } : { operation, namespace: keyspace, collection: first };
  if (summaries.size < MAX_CACHED) summaries.set(key, summary);
  return summary;
}

type Callback = (error: Error | null, result?: unknown) => void;
type AnyFunction = (...args: unknown[]) => unknown;

/**
 * Wraps `client`'s `execute`, `batch` and `eachRow` (which `stream` uses) so that each call is one
 * client span, under the current span only (a readiness probe or a timer makes none), within the
 * unit of work's budget of child spans. Attributes: operation, keyspace, table, rows, coordinator;
 * never the statement's values. Called only when tracing is on: otherwise the client is untouched.
 */
export function traceCassandraClient(client: Client): Client {
  const keyspace = () => client.keyspace ?? undefined;
  const execute = client.execute.bind(client) as AnyFunction;
  const batch = client.batch.bind(client) as AnyFunction;
  const eachRow = client.eachRow.bind(client) as AnyFunction;

  client.execute = ((...args: unknown[]) => {
    const span = typeof args[0] === 'string' ? statementSpan(summarizeStatement(args[0], keyspace())) : undefined;
    return span ? settleWith(span, execute, args) : execute(...args);
  }) as Client['execute'];

  client.batch = ((...args: unknown[]) => {
    const queries = Array.isArray(args[0]) ? (args[0] as (string | { query: string })[]) : [];
    const span = statementSpan(summarizeBatch(queries, keyspace()), { 'db.operation.batch.size': queries.length });
    return span ? settleWith(span, batch, args) : batch(...args);
  }) as Client['batch'];

  client.eachRow = ((...args: unknown[]) => {
    // Traced only with its completion callback (the last of two functions): there is nothing to end the span on otherwise.
    const callbacks = args.filter((arg) => typeof arg === 'function').length;
    const span = typeof args[0] === 'string' && callbacks >= 2 ? statementSpan(summarizeStatement(args[0], keyspace())) : undefined;
    return span ? settleWith(span, eachRow, args) : eachRow(...args);
  }) as Client['eachRow'];

  return client;
}

function summarizeBatch(queries: (string | { query: string })[], keyspace?: string): StatementSummary {
  const tables = new Set<string>();
  let namespace = keyspace;
  for (const entry of queries) {
    const summary = summarizeStatement(typeof entry === 'string' ? entry : entry.query, keyspace);
    if (summary.collection) tables.add(summary.collection);
    namespace = summary.namespace ?? namespace;
  }
  return { operation: 'BATCH', namespace, collection: tables.size === 1 ? [...tables][0] : undefined };
}

function statementSpan(summary: StatementSummary, extra: Record<string, number> = {}): Span | undefined {
  const target = summary.collection ? `${summary.namespace ? `${summary.namespace}.` : ''}${summary.collection}` : summary.namespace;
  return startLeafSpan({
    name: target ? `${summary.operation} ${target}` : summary.operation,
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system.name': 'cassandra',
      'db.operation.name': summary.operation,
      ...(summary.namespace ? { 'db.namespace': summary.namespace } : {}),
      ...(summary.collection ? { 'db.collection.name': summary.collection } : {}),
      ...(target ? { 'db.query.summary': `${summary.operation} ${target}` } : {}),
      ...extra,
    },
  });
}

/** Calls `original` in its promise or callback form and ends `span` when it settles. */
function settleWith(span: Span, original: AnyFunction, args: unknown[]): unknown {
  const last = args.length - 1;
  if (typeof args[last] === 'function') {
    const callback = args[last] as Callback;
    args[last] = (error: Error | null, result?: unknown) => {
      end(span, error ?? undefined, result);
      callback(error, result);
    };
    return original(...args);
  }
  return (original(...args) as Promise<unknown>).then(
    (result) => {
      end(span, undefined, result);
      return result;
    },
    (error: unknown) => {
      end(span, error);
      throw error;
    },
  );
}

function end(span: Span, error: unknown, result?: unknown): void {
  if (error !== undefined) {
    // The driver's words may quote a statement; the span says only what kind of error it was.
    failSpan(span, error, false);
  } else {
    const info = (result as types.ResultSet | undefined)?.info;
    const host = typeof info?.queriedHost === 'string' ? info.queriedHost : undefined;
    if (host) {
      const at = host.lastIndexOf(':');
      span.setAttribute('server.address', at > 0 ? host.slice(0, at) : host);
      if (at > 0) span.setAttribute('server.port', Number(host.slice(at + 1)));
    }
    const rows = (result as types.ResultSet | undefined)?.rowLength;
    if (typeof rows === 'number') span.setAttribute('db.response.returned_rows', rows);
  }
  span.end();
}
