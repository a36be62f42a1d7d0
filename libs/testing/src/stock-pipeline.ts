import { randomInt } from 'node:crypto';
import { Admin } from 'kafkajs';
import { levelOf, StockMove } from '../../../apps/process/src/stock/stock-level';
import { appUrl } from './apps';
import { waitFor } from './wait';

/** A store and the API key that may write for it. */
export interface StockStore {
  store: string;
  key: string;
}

export const STOCK_EVENT_TYPES = ['delivery', 'sale', 'adjustment', 'count'] as const;

/** One stock event as a store sends it to ingest. */
export interface SentEvent {
  eventId: string;
  sku: string;
  type: (typeof STOCK_EVENT_TYPES)[number];
  quantity: number;
  occurredAt: string;
}

/** `count` random events over `skus` (every 40th a count), eventIds `${idPrefix}-<i>`, within one day of 2024. */
export function makeEvents(count: number, skus: string[], idPrefix: string): SentEvent[] {
  const base = Date.UTC(2024, 0, 1);
  return Array.from({ length: count }, (_, i) => {
    const type = i % 40 === 0 ? 'count' : STOCK_EVENT_TYPES[randomInt(3)];
    const quantity = type === 'count' ? randomInt(1000) : type === 'adjustment' ? randomInt(1, 10) * (randomInt(2) ? 1 : -1) : randomInt(1, 20);
    return {
      eventId: `${idPrefix}-${i}`,
      sku: skus[randomInt(skus.length)],
      type,
      quantity,
      occurredAt: new Date(base + randomInt(86_400) * 1000).toISOString(),
    };
  });
}

/** The level of every sku the events touch, by API.md's stock semantics (repeated eventIds count once). */
export function expectedLevels(events: Iterable<SentEvent>): Map<string, number> {
  const bySku = new Map<string, Map<string, StockMove>>();
  for (const e of events) {
    const moves = bySku.get(e.sku) ?? new Map<string, StockMove>();
    if (!moves.has(e.eventId)) moves.set(e.eventId, { eventId: e.eventId, type: e.type, quantity: e.quantity, at: Date.parse(e.occurredAt) });
    bySku.set(e.sku, moves);
  }
  return new Map([...bySku].map(([sku, moves]) => [sku, levelOf(moves.values()).level]));
}

/** Events as the CSV an upload takes (header line first). */
export function eventsCsv(events: Iterable<SentEvent>): string {
  const lines = ['eventId,sku,type,quantity,occurredAt'];
  for (const e of events) lines.push(`${e.eventId},${e.sku},${e.type},${e.quantity},${e.occurredAt}`);
  return `${lines.join('\n')}\n`;
}

/** One POST of `events` (JSON) to ingest for the store. */
export async function sendEvents(to: StockStore, events: SentEvent[]): Promise<Response> {
  return fetch(`${appUrl('ingest')}/v1/stores/${to.store}/stock-events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': to.key },
    body: JSON.stringify(events),
  });
}

/** Sends every chunk until it is accepted (503 and network errors are retried: eventIds make that safe). */
export async function sendAllEvents(to: StockStore, events: SentEvent[], chunk = 5000, parallel = 4): Promise<void> {
  const chunks: SentEvent[][] = [];
  for (let i = 0; i < events.length; i += chunk) chunks.push(events.slice(i, i + chunk));
  const worker = async () => {
    for (let c = chunks.shift(); c; c = chunks.shift()) {
      const batch = c;
      await waitFor('a chunk to be accepted', async () => (await sendEvents(to, batch).catch(() => undefined))?.status === 202, {
        timeoutMs: 120_000,
        intervalMs: 500,
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

export interface ServedLevel {
  quantity: number;
  updatedAt: string;
}

/** Every level the api serves for the store whose sku starts with `prefix` (all pages). */
export async function levels(of: StockStore | string, prefix: string): Promise<Map<string, ServedLevel>> {
  const store = typeof of === 'string' ? of : of.store;
  const found = new Map<string, ServedLevel>();
  let token: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '1000', ...(token ? { pageToken: token } : {}) });
    const response = await fetch(`${appUrl('api')}/v1/stores/${store}/stock?${query}`);
    if (!response.ok) throw new Error(`api answered ${response.status}`);
    const page = (await response.json()) as { items: { sku: string; quantity: number; updatedAt: string }[]; nextPageToken: string | null };
    for (const item of page.items) if (item.sku.startsWith(prefix)) found.set(item.sku, { quantity: item.quantity, updatedAt: item.updatedAt });
    token = page.nextPageToken;
  } while (token);
  return found;
}

/**
 * Waits until every level of `expected` is served, and (with `exact`) no other sku of the prefix
 * is; fails with the first difference once the deadline passes.
 */
export async function waitForLevels(
  of: StockStore | string,
  prefix: string,
  expected: Map<string, number>,
  timeoutMs = 300_000,
  { exact = false }: { exact?: boolean } = {},
): Promise<Map<string, ServedLevel>> {
  return waitFor(
    `all ${expected.size} levels of ${prefix} to equal the reference`,
    async () => {
      const actual = await levels(of, prefix);
      const wrong = [...expected].filter(([sku, level]) => actual.get(sku)?.quantity !== level);
      const extra = exact ? [...actual.keys()].filter((sku) => !expected.has(sku)) : [];
      if (wrong.length === 0 && extra.length === 0) return actual;
      const example =
        wrong.length > 0
          ? `${wrong[0][0]}: ${actual.get(wrong[0][0])?.quantity} ≠ ${wrong[0][1]}`
          : `${extra[0]} = ${actual.get(extra[0])?.quantity} is not in the reference`;
      throw new Error(`${wrong.length} levels differ, ${extra.length} unexpected, e.g. ${example}`);
    },
    { timeoutMs, intervalMs: 1000 },
  );
}

/** Per partition of `topic`: the group's committed offset (-1: none) and the topic's end offset. */
export async function groupOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<{ partition: number; committed: bigint; end: bigint; low: bigint }[]> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  return ends
    .map((e) => ({
      partition: e.partition,
      committed: BigInt(committed.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1'),
      end: BigInt(e.high),
      low: BigInt(e.low),
    }))
    .sort((a, b) => a.partition - b.partition);
}

/** Waits until `groupId` has committed at least the end offsets `topic` has now (lag 0 for what is written so far). */
export async function waitForGroupCaughtUp(admin: Admin, groupId: string, topic: string, timeoutMs = 120_000): Promise<void> {
  const targets = await admin.fetchTopicOffsets(topic);
  await waitFor(
    `group ${groupId} to consume ${topic} up to its current end`,
    async () => {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const behind = targets.filter((t) => {
        const at = committed.partitions.find((p) => p.partition === t.partition)?.offset ?? '-1';
        const from = at === '-1' ? BigInt(t.low) : BigInt(at);
        return from < BigInt(t.high);
      });
      return behind.length === 0 ? true : (Promise.reject(new Error(`partitions ${behind.map((t) => t.partition).join(', ')} behind`)) as never);
    },
    { timeoutMs, intervalMs: 500 },
  );
}
