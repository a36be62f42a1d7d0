/**
 * The "floor" for the ingest benchmark: the least an ingest can do for a JSON upload and still
 * publish what ingest publishes. A bare `node:http` server; per request: the store key, the body read
 * whole, JSON.parse, the contract's `validateStockEvent` per event, ingest's record (key, value and
 * headers: stock-record.ts), and one `producer.send` with the product's producer settings (kafkajs
 * client from `createKafka`, idempotent, one request in flight, acks -1, no compression), awaited
 * before the 202. No Nest, no Fastify, no coalescing of requests, no metrics, no logs.
 * Env: PORT, TOPIC, KAFKA_BROKERS, STORE_API_KEYS (`storeId:key,...`).
 */
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { CompressionTypes } from 'kafkajs';
import { createKafka } from '../../libs/messaging/src/kafka/kafka.factory';
import { acceptCorrelationId, CORRELATION_HEADER } from '../../libs/observability/src/correlation';
import { StockRecord, stockRecord } from './stock-record';

const PORT = Number(process.env.PORT ?? 4905);
const TOPIC = process.env.TOPIC ?? 'stock.bench.floor';
/** Ingest's limits (apps/ingest/src/stock-events/event-readers.ts). */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const MAX_EVENTS = 50_000;
const ROUTE = /^\/v1\/stores\/([^/?]+)\/stock-events(?:\?.*)?$/;

const storeByKey = new Map<string, string>();
for (const pair of (process.env.STORE_API_KEYS ?? '').split(',').filter(Boolean)) {
  const at = pair.indexOf(':');
  storeByKey.set(pair.slice(at + 1), pair.slice(0, at));
}

const kafka = createKafka({ clientId: 'ingest-floor', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',') });
// The settings of KafkaPublisher.getProducer.
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
});
let ready = false;

function answer(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks, size)));
    request.on('error', reject);
  });
}

async function ingest(request: IncomingMessage, response: ServerResponse, storeId: string): Promise<void> {
  const key = request.headers['x-api-key'];
  if (typeof key !== 'string' || storeByKey.get(key) !== storeId) return answer(response, 401, { message: 'unknown X-Api-Key for this store' });
  if ((request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() !== 'application/json') {
    return answer(response, 415, { message: 'send application/json' });
  }
  const body = await readBody(request);
  if (!body) return answer(response, 413, { message: 'the body is over 10 MiB' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return answer(response, 400, { message: `The JSON body cannot be parsed: ${(error as Error).message}` });
  }
  const events = Array.isArray(parsed) ? parsed : (parsed as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) return answer(response, 400, { message: 'The JSON body must be an array of events or an object { "events": [ ... ] }.' });
  if (events.length > MAX_EVENTS) return answer(response, 413, { message: `more than ${MAX_EVENTS} events` });

  const correlationId = acceptCorrelationId(request.headers[CORRELATION_HEADER]);
  const now = Date.now();
  const records: StockRecord[] = [];
  const rejected: { index: number; eventId?: string; errors: string[] }[] = [];
  for (let index = 0; index < events.length; index++) {
    const built = stockRecord(storeId, events[index], correlationId, now);
    if (built.ok) records.push(built.record);
    else rejected.push({ index, ...(built.eventId !== undefined ? { eventId: built.eventId } : {}), errors: built.errors });
  }
  if (records.length === 0) return answer(response, 400, { message: 'no valid event', accepted: 0, rejected });
  try {
    await producer.send({ topic: TOPIC, messages: records, acks: -1, compression: CompressionTypes.None });
  } catch (error) {
    return answer(response, 503, { message: `Kafka did not take the events: ${(error as Error).message}` });
  }
  answer(response, 202, { accepted: records.length, rejected });
}

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/health/ready') return answer(response, ready ? 200 : 503, { ready });
  const route = request.method === 'POST' ? ROUTE.exec(request.url ?? '') : null;
  if (!route) return answer(response, 404, { message: 'not found' });
  ingest(request, response, decodeURIComponent(route[1])).catch((error: Error) => {
    if (!response.headersSent) answer(response, 500, { message: error.message });
  });
});

async function main(): Promise<void> {
  await producer.connect();
  ready = true;
  server.listen(PORT, '127.0.0.1');
}

process.on('SIGTERM', () => {
  server.close();
  void producer.disconnect().finally(() => process.exit(0));
});
main().catch((error: Error) => {
  process.stderr.write(`ingest-floor failed: ${error.stack}\n`);
  process.exit(1);
});
