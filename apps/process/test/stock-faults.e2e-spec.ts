import 'reflect-metadata';
import { randomInt, randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Topics } from '@app/contracts';
import { appUrl, infra, killApp, startApp, waitFor, waitReady } from '@app/testing';
import { levelOf, StockMove } from '../src/stock/stock-level';

jest.setTimeout(600_000);

const STORE = 'store-3';
const KEY = 'dev-key-store-3';
const run = randomUUID().slice(0, 8);
const TYPES = ['delivery', 'sale', 'adjustment', 'count'] as const;

interface SentEvent {
  eventId: string;
  sku: string;
  type: (typeof TYPES)[number];
  quantity: number;
  occurredAt: string;
}

function makeEvents(count: number, skus: string[]): SentEvent[] {
  const base = Date.UTC(2024, 0, 1);
  return Array.from({ length: count }, (_, i) => {
    const type = i % 40 === 0 ? 'count' : TYPES[randomInt(3)];
    const quantity = type === 'count' ? randomInt(1000) : type === 'adjustment' ? randomInt(1, 10) * (randomInt(2) ? 1 : -1) : randomInt(1, 20);
    return { eventId: `${run}-${i}`, sku: skus[randomInt(skus.length)], type, quantity, occurredAt: new Date(base + randomInt(86_400) * 1000).toISOString() };
  });
}

function expectedLevels(events: SentEvent[]): Map<string, number> {
  const bySku = new Map<string, StockMove[]>();
  for (const e of events) {
    const list = bySku.get(e.sku) ?? [];
    list.push({ eventId: e.eventId, type: e.type, quantity: e.quantity, at: Date.parse(e.occurredAt) });
    bySku.set(e.sku, list);
  }
  return new Map([...bySku].map(([sku, moves]) => [sku, levelOf(moves).level]));
}

async function send(events: SentEvent[]): Promise<Response> {
  return fetch(`${appUrl('ingest')}/v1/stores/${STORE}/stock-events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: JSON.stringify(events),
  });
}

/** Sends every chunk until it is accepted (503 and network errors are retried: eventIds make that safe). */
async function sendAll(events: SentEvent[], chunk = 5000, parallel = 4): Promise<void> {
  const chunks: SentEvent[][] = [];
  for (let i = 0; i < events.length; i += chunk) chunks.push(events.slice(i, i + chunk));
  const worker = async () => {
    for (let c = chunks.shift(); c; c = chunks.shift()) {
      const batch = c;
      await waitFor('a chunk to be accepted', async () => (await send(batch).catch(() => undefined))?.status === 202, { timeoutMs: 120_000, intervalMs: 500 });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

async function levels(prefix: string): Promise<Map<string, { quantity: number; updatedAt: string }>> {
  const found = new Map<string, { quantity: number; updatedAt: string }>();
  let token: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '1000', ...(token ? { pageToken: token } : {}) });
    const response = await fetch(`${appUrl('api')}/v1/stores/${STORE}/stock?${query}`);
    if (!response.ok) throw new Error(`api answered ${response.status}`);
    const page = (await response.json()) as { items: { sku: string; quantity: number; updatedAt: string }[]; nextPageToken: string | null };
    for (const item of page.items) if (item.sku.startsWith(prefix)) found.set(item.sku, { quantity: item.quantity, updatedAt: item.updatedAt });
    token = page.nextPageToken;
  } while (token);
  return found;
}

async function waitForLevels(prefix: string, expected: Map<string, number>, timeoutMs = 300_000): Promise<void> {
  await waitFor(
    `all ${expected.size} levels of ${prefix} to equal the reference`,
    async () => {
      const actual = await levels(prefix);
      const wrong = [...expected].filter(([sku, level]) => actual.get(sku)?.quantity !== level);
      return wrong.length === 0 ? true : (Promise.reject(new Error(`${wrong.length} levels differ, e.g. ${wrong[0][0]}: ${actual.get(wrong[0][0])?.quantity} ≠ ${wrong[0][1]}`)) as never);
    },
    { timeoutMs, intervalMs: 1000 },
  );
}

describe('stock pipeline under faults', () => {
  const prefix = `F-${run}-`;
  const skus = Array.from({ length: 400 }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
  const events = makeEvents(100_000, skus);
  // duplicates, sent again later (as a store resending part of an upload would)
  const resent = events.filter(() => randomInt(20) === 0);
  const expected = expectedLevels(events);

  afterAll(async () => {
    infra('resume', 'kafka');
    // leave the shared system as it was: process running and ready
    const alive = await fetch(`${appUrl('process')}/health/live`).then(() => true, () => false);
    if (!alive) startApp('process');
    await waitReady('process');
  });

  it('every level equals the reference after kill -9 of process three times while 100,000 events are in flight', async () => {
    const sending = sendAll([...events, ...resent]);
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, randomInt(500, 4000)));
      await killApp('process', 'SIGKILL');
      startApp('process');
      await waitReady('process');
    }
    await sending;
    await waitForLevels(prefix, expected);
  });

  it('replaying the topic from the earliest offset changes nothing', async () => {
    const before = await levels(prefix);
    // A group of our own: other test runs on this Kafka keep members in `process`, and a group can
    // only be reset while it has none. Same code, same topic, same offsets.
    const group = `process-replay-${run}`;
    const kafka = new Kafka({ clientId: 'e2e-replay', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const consumeToEnd = async () => {
      const ends = await admin.fetchTopicOffsets(Topics.StockEvents);
      await waitFor(`group ${group} to consume the whole topic`, async () => {
        const [committed] = await admin.fetchOffsets({ groupId: group, topics: [Topics.StockEvents] });
        return ends.every((end) => BigInt(committed.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1') >= BigInt(end.high));
      }, { timeoutMs: 300_000, intervalMs: 1000 });
    };
    try {
      await killApp('process', 'SIGTERM');
      startApp('process', { STOCK_CONSUMER_GROUP: group });
      await waitReady('process');
      await consumeToEnd();
      expect(await levels(prefix)).toEqual(before);

      await killApp('process', 'SIGTERM');
      await waitFor(`the offsets of ${group} to reset to the earliest`, async () => {
        await admin.resetOffsets({ groupId: group, topic: Topics.StockEvents, earliest: true });
        return true;
      }, { timeoutMs: 60_000, intervalMs: 1000 });
      startApp('process', { STOCK_CONSUMER_GROUP: group });
      await waitReady('process');
      await consumeToEnd();
      expect(await levels(prefix)).toEqual(before);
    } finally {
      await killApp('process', 'SIGTERM');
      startApp('process');
      await waitReady('process');
      await admin.deleteGroups([group]).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('answers 503 while Kafka is frozen, never 202, and recovers by itself', async () => {
    const s = `${prefix}kafka-down`;
    const event = (id: string, quantity: number): SentEvent => ({ eventId: `${run}-${id}`, sku: s, type: 'delivery', quantity, occurredAt: new Date().toISOString() });
    infra('pause', 'kafka');
    try {
      const response = await send([event('down-1', 1)]);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { message: string }).message).toMatch(/nothing from this request was accepted/);
    } finally {
      infra('resume', 'kafka');
    }
    await waitFor('ingest to accept again', async () => (await send([event('down-1', 1), event('up-2', 2)])).status === 202, { timeoutMs: 120_000, intervalMs: 1000 });
    await waitFor(`${s} to be 3`, async () => {
      const response = await fetch(`${appUrl('api')}/v1/stores/${STORE}/stock/${s}`);
      return response.ok && ((await response.json()) as { quantity: number }).quantity === 3;
    }, { timeoutMs: 60_000, intervalMs: 500 });
  });
});
