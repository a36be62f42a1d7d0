import { randomInt, randomUUID } from 'node:crypto';
import { appUrl, waitFor } from '@app/testing';
import { levelOf, StockMove } from '../../../process/src/stock/stock-level';
import { admin, buy, call, createItem, credit, registerUser, TestUser, unique } from './commerce';

/** Helpers for the saga fault tests: a ledger of what a test did, and the invariants checked against it. */

export const TERMINAL = new Set(['COMPLETED', 'REJECTED', 'CANCELLED']);
export const MAILDEV_URL = 'http://127.0.0.1:1080';

export interface Accepted {
  purchaseId: string;
  user: TestUser;
  sku: string;
  quantity: number;
  /** When the POST left the client, and when its 202 arrived (epoch ms). */
  sentAt: number;
  acceptedAt: number;
  /** POSTs it took (retries with the same Idempotency-Key). */
  tries: number;
}

/** What a test created: users and what they were credited, items and the units they got. */
export class Books {
  readonly credits = new Map<TestUser, number>();
  readonly units = new Map<string, number>();
  readonly accepted: Accepted[] = [];

  async users(count: number, creditEach: number, prefix = 'saga'): Promise<TestUser[]> {
    const users = await Promise.all(Array.from({ length: count }, () => registerUser(prefix)));
    await Promise.all(users.map((u) => credit(u.id, creditEach)));
    for (const u of users) this.credits.set(u, creditEach);
    return users;
  }

  async item(quantity: number, price: number): Promise<string> {
    const sku = await createItem(quantity, price);
    this.units.set(sku, quantity);
    return sku;
  }

  async restock(sku: string, quantity: number): Promise<void> {
    const reply = await call('POST', `/v1/admin/items/${sku}/restock`, { token: await admin(), body: { quantity } });
    if (reply.status !== 200) throw new Error(`restock ${sku}: ${reply.status} ${JSON.stringify(reply.body)}`);
    this.units.set(sku, (this.units.get(sku) ?? 0) + quantity);
  }
}

/** Statuses a client retries with the same Idempotency-Key (the api or a service behind it is away). */
const RETRYABLE = new Set([429, 502, 503, 504]);

/**
 * A client that keeps its Idempotency-Key and retries until the purchase is accepted, as a real
 * one would; a non-retryable answer fails the test with the request and the answer.
 */
export async function buyUntilAccepted(
  books: Books,
  user: TestUser,
  sku: string,
  quantity: number,
  deadline: number,
  /** api instances to use, the next one on each retry (as a client behind a load balancer); the shared api by default. */
  apis: (string | undefined)[] = [undefined],
): Promise<Accepted> {
  const key = unique('k');
  let tries = 0;
  for (;;) {
    tries++;
    const sentAt = Date.now();
    const reply = await buy(user, sku, quantity, key, apis[(books.accepted.length + tries) % apis.length]).catch(() => undefined);
    if (reply?.status === 202) {
      const accepted: Accepted = { purchaseId: reply.body.purchaseId, user, sku, quantity, sentAt, acceptedAt: Date.now(), tries };
      books.accepted.push(accepted);
      return accepted;
    }
    if (reply && !RETRYABLE.has(reply.status)) {
      throw new Error(`POST /v1/purchases {sku: ${sku}, quantity: ${quantity}} (key ${key}) → ${reply.status} ${JSON.stringify(reply.body)}`);
    }
    if (Date.now() > deadline) throw new Error(`a purchase was never accepted (${tries} tries, last: ${reply?.status ?? 'network error'})`);
    await new Promise((resolve) => setTimeout(resolve, 200)); // a client's retry pause, not a wait for an effect
  }
}

/**
 * Runs `total` purchases with `parallel` clients at a time (so the load spans a fault), calling
 * `onAccepted` with the count after each 202. Purchase i is by users[i % n] of skus[i % m].
 */
export async function purchaseLoad(
  books: Books,
  users: TestUser[],
  skus: string[],
  total: number,
  options: {
    parallel?: number;
    quantity?: (i: number) => number;
    deadlineMs?: number;
    paceMs?: number;
    onAccepted?: (count: number) => void;
    /** api instances the purchases are spread over (see buyUntilAccepted). */
    apis?: (string | undefined)[];
  } = {},
): Promise<Accepted[]> {
  const deadline = Date.now() + (options.deadlineMs ?? 120_000);
  const done: Accepted[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const accepted = await buyUntilAccepted(books, users[i % users.length], skus[i % skus.length], options.quantity?.(i) ?? 1, deadline, options.apis);
      done.push(accepted);
      options.onAccepted?.(done.length);
      // A client's own pace between two purchases, so the load spans what the test does meanwhile.
      if (options.paceMs) await new Promise((resolve) => setTimeout(resolve, options.paceMs));
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 8 }, worker));
  return done;
}

export async function allPurchases(user: TestUser): Promise<any[] | false> {
  const items: any[] = [];
  let pageToken: string | undefined;
  do {
    const reply = await call('GET', `/v1/purchases?limit=100${pageToken ? `&pageToken=${pageToken}` : ''}`, { token: user.token });
    if (reply.status !== 200) return false;
    items.push(...reply.body.items);
    pageToken = reply.body.nextPageToken ?? undefined;
  } while (pageToken);
  return items;
}

export interface Settled {
  purchases: any[];
  byStatus: Record<string, number>;
  settledInMs: number;
}

/**
 * Waits until every purchase of the books' users is terminal and every accepted id is among them,
 * then checks the money and stock invariants of API.md against the books:
 * balance = credits − COMPLETED amounts per account; sold + left = created + restocked per item, left ≥ 0.
 */
export async function expectConserved(books: Books, timeoutMs = 120_000): Promise<Settled> {
  const started = Date.now();
  const users = [...books.credits.keys()];
  const lists = await waitFor(
    `every purchase of ${users.length} users to be terminal`,
    async () => {
      const lists = await Promise.all(users.map(allPurchases));
      if (lists.some((l) => l === false)) return false;
      const all = (lists as any[][]).flat();
      const pending = all.filter((p) => !TERMINAL.has(p.status));
      if (pending.length > 0) throw new Error(`${pending.length} not terminal, e.g. ${JSON.stringify(pending[0])}`);
      const ids = new Set(all.map((p) => p.purchaseId));
      const missing = books.accepted.filter((a) => !ids.has(a.purchaseId));
      if (missing.length > 0) throw new Error(`${missing.length} accepted purchases not listed, e.g. ${missing[0].purchaseId}`);
      return lists as any[][];
    },
    { timeoutMs, intervalMs: 500 },
  );
  const settledInMs = Date.now() - started;
  const purchases = lists.flat();
  // Every purchase listed was accepted by this test (nothing appeared from nowhere), once.
  expect(purchases.length).toBe(new Set(purchases.map((p) => p.purchaseId)).size);
  expect(new Set(purchases.map((p) => p.purchaseId))).toEqual(new Set(books.accepted.map((a) => a.purchaseId)));

  for (let i = 0; i < users.length; i++) {
    const spent = lists[i].filter((p) => p.status === 'COMPLETED').reduce((sum, p) => sum + p.amount, 0);
    const me = await call('GET', '/v1/me', { token: users[i].token });
    expect({ user: users[i].email, balance: me.body.balance }).toEqual({ user: users[i].email, balance: books.credits.get(users[i])! - spent });
  }
  for (const [sku, units] of books.units) {
    const sold = purchases.filter((p) => p.sku === sku && p.status === 'COMPLETED').reduce((sum, p) => sum + p.quantity, 0);
    // Read past the api's cache: the quantity is the shop's now.
    const left = await waitFor(`${sku} to be read`, async () => {
      const reply = await call('GET', `/v1/items/${sku}`);
      return reply.status === 200 ? (reply.body.quantity as number) : false;
    });
    expect(left).toBeGreaterThanOrEqual(0);
    expect({ sku, soldPlusLeft: sold + left }).toEqual({ sku, soldPlusLeft: units });
  }
  const byStatus: Record<string, number> = {};
  for (const p of purchases) byStatus[p.status] = (byStatus[p.status] ?? 0) + 1;
  return { purchases, byStatus, settledInMs };
}

export function describeStatuses(byStatus: Record<string, number>): string {
  return Object.entries(byStatus)
    .sort()
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
}

interface MailDevMail {
  subject: string;
  to: { address: string }[];
  headers: Record<string, string>;
}

async function allMails(): Promise<MailDevMail[]> {
  const response = await fetch(`${MAILDEV_URL}/email`);
  if (!response.ok) throw new Error(`MailDev answered ${response.status}`);
  return (await response.json()) as MailDevMail[];
}

export interface MailCount {
  mails: number;
  twice: number;
}

/**
 * One outcome mail per COMPLETED or CANCELLED purchase (REJECTED ones get none): waits until each
 * has arrived at MailDev (matched by X-Mail-Id `purchase-<outcome>:<id>` and its recipient), then
 * checks none came twice and none announced the other outcome.
 */
export async function expectOneMailEach(purchases: any[], books: Books, timeoutMs = 90_000): Promise<MailCount> {
  const owner = new Map(books.accepted.map((a) => [a.purchaseId, a.user.email.toLowerCase()]));
  const expected = new Map<string, string>();
  for (const p of purchases) {
    if (p.status === 'COMPLETED') expected.set(`purchase-completed:${p.purchaseId}`, owner.get(p.purchaseId)!);
    if (p.status === 'CANCELLED') expected.set(`purchase-cancelled:${p.purchaseId}`, owner.get(p.purchaseId)!);
  }
  const ours = new Set(purchases.map((p) => p.purchaseId));
  const counts = await waitFor(
    `${expected.size} purchase mails at MailDev`,
    async () => {
      const counts = new Map<string, number>();
      for (const mail of await allMails()) {
        const id = mail.headers['x-mail-id'];
        if (!id?.startsWith('purchase-')) continue;
        const purchaseId = id.slice(id.indexOf(':') + 1);
        if (!ours.has(purchaseId)) continue;
        const to = owner.get(purchaseId);
        if (!mail.to.some((t) => t.address.toLowerCase() === to)) throw new Error(`${id} went to ${JSON.stringify(mail.to)}, not ${to}`);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const missing = [...expected.keys()].filter((id) => !counts.has(id));
      if (missing.length > 0) throw new Error(`${missing.length} of ${expected.size} missing, e.g. ${missing[0]}`);
      return counts;
    },
    { timeoutMs, intervalMs: 1000 },
  );
  const wrong = [...counts.keys()].filter((id) => !expected.has(id));
  const twice = [...counts].filter(([, n]) => n > 1);
  expect({ wrongOutcome: wrong, sentTwice: twice }).toEqual({ wrongOutcome: [], sentTwice: [] });
  return { mails: [...counts.values()].reduce((a, b) => a + b, 0), twice: twice.length };
}

// ---- stock uploads (ingest → Kafka → process → Cassandra → api) ----

export interface StockEvent {
  eventId: string;
  sku: string;
  type: 'delivery' | 'sale' | 'adjustment' | 'count';
  quantity: number;
  occurredAt: string;
}

const TYPES = ['delivery', 'sale', 'adjustment'] as const;

export function makeStockEvents(count: number, skus: string[]): StockEvent[] {
  const run = randomUUID().slice(0, 8);
  const base = Date.UTC(2024, 0, 1);
  return Array.from({ length: count }, (_, i) => {
    const type = i % 25 === 0 ? 'count' : TYPES[randomInt(3)];
    const quantity = type === 'count' ? randomInt(1000) : type === 'adjustment' ? randomInt(1, 10) * (randomInt(2) ? 1 : -1) : randomInt(1, 20);
    return { eventId: `${run}-${i}`, sku: skus[randomInt(skus.length)], type, quantity, occurredAt: new Date(base + randomInt(86_400) * 1000).toISOString() };
  });
}

/** The reference levels, with the level computation process itself uses. */
export function referenceLevels(events: StockEvent[]): Map<string, number> {
  const bySku = new Map<string, StockMove[]>();
  for (const e of events) {
    const list = bySku.get(e.sku) ?? [];
    list.push({ eventId: e.eventId, type: e.type, quantity: e.quantity, at: Date.parse(e.occurredAt) });
    bySku.set(e.sku, list);
  }
  return new Map([...bySku].map(([sku, moves]) => [sku, levelOf(moves).level]));
}

export interface UploadStats {
  requests: number;
  retries: number;
  accepted: number;
}

/**
 * Uploads the events in chunks, `parallel` at a time, retrying a chunk on 503 and network errors
 * until it is accepted (eventIds make a resend harmless); `onChunk` gets the count of accepted chunks.
 */
export async function uploadAll(
  store: { id: string; key: string },
  events: StockEvent[],
  options: { chunk?: number; parallel?: number; onChunk?: (done: number) => void; deadlineMs?: number } = {},
): Promise<UploadStats> {
  const size = options.chunk ?? 100;
  const chunks: StockEvent[][] = [];
  for (let i = 0; i < events.length; i += size) chunks.push(events.slice(i, i + size));
  const stats: UploadStats = { requests: 0, retries: 0, accepted: 0 };
  const deadline = Date.now() + (options.deadlineMs ?? 120_000);
  let done = 0;
  const worker = async () => {
    for (let c = chunks.shift(); c; c = chunks.shift()) {
      for (let attempt = 0; ; attempt++) {
        stats.requests++;
        if (attempt > 0) stats.retries++;
        const response = await fetch(`${appUrl('ingest')}/v1/stores/${store.id}/stock-events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': store.key },
          body: JSON.stringify(c),
        }).catch(() => undefined);
        if (response?.status === 202) {
          const body = (await response.json()) as { accepted: number; rejected: unknown[] };
          if (body.rejected.length > 0 || body.accepted !== c.length)
            throw new Error(`ingest accepted ${body.accepted} of ${c.length}: ${JSON.stringify(body.rejected[0])}`);
          stats.accepted += body.accepted;
          break;
        }
        if (response && response.status !== 503) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
        if (Date.now() > deadline) throw new Error(`a chunk was never accepted (last: ${response?.status ?? 'network error'})`);
        await new Promise((resolve) => setTimeout(resolve, 200)); // a store's retry pause
      }
      options.onChunk?.(++done);
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 4 }, worker));
  return stats;
}

/** Waits until the api shows every sku's level equal to the reference (one request per sku). */
export async function expectLevels(storeId: string, expected: Map<string, number>, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  await waitFor(
    `${expected.size} levels of ${storeId} to equal the reference`,
    async () => {
      const wrong: string[] = [];
      await Promise.all(
        [...expected].map(async ([sku, level]) => {
          const response = await fetch(`${appUrl('api')}/v1/stores/${storeId}/stock/${sku}`);
          const quantity = response.ok ? ((await response.json()) as { quantity: number }).quantity : `HTTP ${response.status}`;
          if (quantity !== level) wrong.push(`${sku}: ${quantity} ≠ ${level}`);
        }),
      );
      if (wrong.length > 0) throw new Error(`${wrong.length} levels differ, e.g. ${wrong[0]}`);
      return true;
    },
    { timeoutMs, intervalMs: 1000 },
  );
  return Date.now() - started;
}
