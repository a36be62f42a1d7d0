import 'reflect-metadata';
import { appUrl, everyAppReady, ExtraApp, killApp, startApp, startExtraApp, waitFor, waitReady } from '@app/testing';
import { admin, call } from './support/commerce';
import {
  Books,
  describeStatuses,
  expectConserved,
  expectLevels,
  expectOneMailEach,
  makeStockEvents,
  purchaseLoad,
  referenceLevels,
  uploadAll,
} from './support/saga-faults';

jest.setTimeout(420_000);

/**
 * The system as it runs in production: two api, three process and two each of account, shop and
 * mailer on one infrastructure (the shared test system plus extra instances), one of each kind
 * killed with -9 under load.
 */
const PRICE = 100;
/** Extra instances' ports: away from every system's 3000–3005, 4000–4005 and the other tests' extras. */
const EXTRA_PORTS = { api: 4710, process: [4712, 4722], account: 4713, shop: 4714, mailer: 4715 };
/** The second api caches the catalog for 10 minutes: only the cross-instance invalidation can refresh it in time. */
const LONG_CATALOG_TTL_MS = 600_000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const say = (line: string) => console.log(`scale-out: ${line}`);

async function priceOn(base: string, sku: string): Promise<number | undefined> {
  const reply = await call('GET', `/v1/items/${sku}`, { base }).catch(() => undefined);
  return reply?.status === 200 ? (reply.body.price as number) : undefined;
}

describe('two api, three process, two account, shop and mailer; one of each killed under load (e2e, real servers)', () => {
  const extras: ExtraApp[] = [];

  afterAll(async () => {
    for (const extra of extras.splice(0)) await extra.stop();
    await everyAppReady();
  }, 300_000);

  it('levels exact, money and stock conserved, one mail each, catalog invalidated on every api instance', async () => {
    await everyAppReady();
    const api2 = startExtraApp('api', EXTRA_PORTS.api, { CATALOG_CACHE_TTL_MS: String(LONG_CATALOG_TTL_MS) });
    const process2 = startExtraApp('process', EXTRA_PORTS.process[0]);
    const process3 = startExtraApp('process', EXTRA_PORTS.process[1]);
    const account2 = startExtraApp('account', EXTRA_PORTS.account);
    const shop2 = startExtraApp('shop', EXTRA_PORTS.shop);
    const mailer2 = startExtraApp('mailer', EXTRA_PORTS.mailer);
    extras.push(api2, process2, process3, account2, shop2, mailer2);
    await Promise.all(extras.map((extra) => extra.ready(180_000)));

    const books = new Books();
    const users = await books.users(6, 100_000, 'scale');
    const skus = [await books.item(40, PRICE), await books.item(40, PRICE)];
    const store = { id: 'store-3', key: 'dev-key-store-3' };
    const prefix = `SO-${Date.now().toString(36)}-`;
    const stockSkus = Array.from({ length: 40 }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);
    const events = makeStockEvents(4_000, stockSkus);

    // One of each kind killed with -9 a quarter into the upload: the shared api, ingest and
    // the extra process, account, shop and mailer. The shared api and ingest come back; the extras
    // stay dead, so their survivors take over their partitions, queues and waiters.
    const killed: string[] = [];
    let fault: Promise<void> | undefined;
    const started = Date.now();
    const faultAt = { from: 0, back: 0 };
    let chunksAfterKill = 0;
    const kill = () =>
      (fault ??= (async () => {
        faultAt.from = Date.now();
        for (const extra of [process2, account2, shop2, mailer2]) process.kill(extra.pid, 'SIGKILL');
        killed.push('process (1 of 3)', 'account (1 of 2)', 'shop (1 of 2)', 'mailer (1 of 2)');
        await Promise.all([killApp('api', 'SIGKILL'), killApp('ingest', 'SIGKILL')]);
        killed.push('api (1 of 2)', 'ingest');
        startApp('api');
        startApp('ingest');
        await Promise.all([waitReady('api'), waitReady('ingest')]);
        faultAt.back = Date.now();
      })());

    const [uploaded] = await Promise.all([
      uploadAll(store, events, {
        chunk: 100,
        parallel: 2,
        deadlineMs: 180_000,
        onChunk: (done) => {
          if (done === 10) void kill();
          if (faultAt.from > 0) chunksAfterKill++;
        },
      }),
      purchaseLoad(books, users, skus, 120, {
        parallel: 6,
        paceMs: 100,
        deadlineMs: 180_000,
        apis: [undefined, api2.url],
      }),
    ]);
    await fault;
    expect(killed).toHaveLength(6);
    const loadDone = Date.now();
    // The load really spanned the kills.
    const during = books.accepted.filter((a) => a.sentAt < faultAt.back && a.acceptedAt > faultAt.from);
    expect(during.length).toBeGreaterThan(0);
    expect(chunksAfterKill).toBeGreaterThan(0);
    expect(uploaded.accepted).toBe(events.length);

    // Levels: every accepted event counted once, whichever process instance held its partition.
    const levelsInMs = await expectLevels(store.id, referenceLevels(events), 180_000);
    // Money and stock: 60 buyers per sku, 40 units each.
    const { purchases, byStatus } = await expectConserved(books, 180_000);
    expect(purchases).toHaveLength(120);
    expect(byStatus).toEqual({ COMPLETED: 80, CANCELLED: 40 });
    const mails = await expectOneMailEach(purchases, books, 180_000);

    // The catalog: a price changed through one api instance is served by the other at once,
    // although that one caches the catalog for 10 minutes.
    const sku = skus[0];
    await waitFor('the second api to serve the item', () => priceOn(api2.url, sku), { timeoutMs: 30_000, intervalMs: 200 });
    const changed = await call('PATCH', `/v1/admin/items/${sku}/price`, { token: await admin(), body: { price: PRICE + 7 } });
    expect(changed.status).toBe(202);
    const changedAt = Date.now();
    for (const base of [appUrl('api'), api2.url])
      await waitFor(`${base} to serve the new price`, async () => (await priceOn(base, sku)) === PRICE + 7, { timeoutMs: 30_000, intervalMs: 100 });
    const invalidatedInMs = Date.now() - changedAt;
    expect(invalidatedInMs).toBeLessThan(LONG_CATALOG_TTL_MS);

    say(
      `killed -9 under load: ${killed.join(', ')}; ${during.length} purchases in flight across the kills; ` +
        `${events.length} events (${chunksAfterKill} of 40 chunks accepted after the kills, ${uploaded.retries} resent), levels exact ${seconds(levelsInMs)} after the load; ` +
        `120 terminal (${describeStatuses(byStatus)}), money and stock conserved; ${mails.mails} mails, none twice; ` +
        `a price change seen by both api instances after ${seconds(invalidatedInMs)}; test ${seconds(Date.now() - started)} (load done at ${seconds(loadDone - started)})`,
    );
  });
});
