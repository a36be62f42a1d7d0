import 'reflect-metadata';
import { SagaQueues, SagaRoutingKeys } from '@app/contracts';
import {
  AppName,
  everyAppReady,
  ExtraApp,
  infra,
  itWhenControlledHere,
  killApp,
  startApp,
  startExtraApp,
  startProxy,
  TcpProxy,
  waitFor,
  waitReady,
} from '@app/testing';
import { HeldQueue, SagaProbe } from '../../shop/test/saga-probe';
import { admin, call } from './support/commerce';
import {
  Accepted,
  allPurchases,
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

jest.setTimeout(240_000);

const RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';
const PRICE = 100;
const CATALOG_CACHE_TTL_MS = 2_000;
/** Extra instances' ports: away from every system's 3000–3005, 4000–4005 and 4100–4505. */
const EXTRA_ACCOUNT_PORT = 4613;
const EXTRA_MAILER_PORT = 4615;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const say = (line: string) => console.log(`saga faults: ${line}`);

/** SIGTERM (waits for the exit), then a fresh start with the given settings, until ready. */
async function gracefulRestart(name: AppName, env: Record<string, string> = {}): Promise<void> {
  await killApp(name, 'SIGTERM');
  startApp(name, env);
  await waitReady(name);
}

async function crashRestart(name: AppName, env: Record<string, string> = {}): Promise<void> {
  await killApp(name, 'SIGKILL');
  startApp(name, env);
  await waitReady(name);
}

async function readyStatus(url: string): Promise<number> {
  return fetch(`${url}/health/ready`).then(
    (r) => r.status,
    () => 0,
  );
}

function idsOf(queue: HeldQueue, ...routingKeys: string[]): Set<string> {
  return new Set(queue.held.filter((m) => routingKeys.includes(m.routingKey)).map((m) => String(m.body.purchaseId)));
}

function covers(seen: Set<string>, accepted: Accepted[]): boolean {
  return accepted.every((a) => seen.has(a.purchaseId));
}

describe('the purchase saga and its neighbours under faults (e2e, real servers)', () => {
  // Anything a test starts beside the shared system, stopped even when the test fails.
  const extras: ExtraApp[] = [];
  const proxies: TcpProxy[] = [];
  const probes: SagaProbe[] = [];
  /** Apps a test restarted with settings of its own: started again with the defaults afterwards. */
  const customized = new Set<AppName>();

  afterEach(async () => {
    for (const probe of probes.splice(0)) await probe.close();
    for (const extra of extras.splice(0)) await extra.stop();
    for (const proxy of proxies.splice(0)) await proxy.close();
    for (const name of [...customized]) {
      customized.delete(name);
      await gracefulRestart(name);
    }
    await everyAppReady();
  }, 300_000);

  afterAll(async () => {
    await everyAppReady();
  }, 300_000);

  describe('SIGTERM under load, then a restart: nothing lost, nothing applied or mailed twice', () => {
    it.each(['account', 'shop', 'mailer'] as const)('SIGTERM %s during 80 concurrent purchases', async (name) => {
      const books = new Books();
      const users = await books.users(4, 100_000, `term-${name}`);
      const skus = [await books.item(30, PRICE), await books.item(30, PRICE)];
      let fault: Promise<void> | undefined;
      const outage = { from: 0, down: 0, ready: 0 };
      const started = Date.now();
      await purchaseLoad(books, users, skus, 80, {
        parallel: 4,
        paceMs: 120,
        onAccepted: (count) => {
          if (count === 20 && !fault) {
            fault = (async () => {
              outage.from = Date.now();
              await killApp(name, 'SIGTERM');
              outage.down = Date.now();
              startApp(name);
              await waitReady(name);
              outage.ready = Date.now();
            })();
          }
        },
      });
      await fault;
      expect(fault).toBeDefined();
      const loadDone = Date.now();
      // The load really spanned the outage: purchases were sent while the app was stopping or away.
      const during = books.accepted.filter((a) => a.sentAt < outage.ready && a.acceptedAt > outage.from);
      expect(during.length).toBeGreaterThan(0);
      const { purchases, byStatus } = await expectConserved(books);
      expect(purchases).toHaveLength(80);
      // 40 buyers per sku, 30 units each: exactly 30 sold, the others refunded.
      expect(byStatus).toEqual({ COMPLETED: 60, CANCELLED: 20 });
      const mails = await expectOneMailEach(purchases, books);
      const retried = books.accepted.filter((a) => a.tries > 1).length;
      const slowest = Math.max(...books.accepted.map((a) => a.acceptedAt - a.sentAt));
      say(
        `SIGTERM ${name} during 80 purchases (stopping ${seconds(outage.down - outage.from)}, away ${seconds(outage.ready - outage.down)} until ready; ` +
          `${during.length} purchases in flight across it, ${retried} retried by the client, slowest 202 after ${seconds(slowest)}); ` +
          `80 terminal (${describeStatuses(byStatus)}); money and stock conserved; ${mails.mails} mails, none twice; ` +
          `settled in ${seconds(Date.now() - loadDone)} (test ${seconds(Date.now() - started)})`,
      );
    });

    it.each(['ingest', 'process'] as const)('SIGTERM %s during an upload of 3,000 stock events', async (name) => {
      const store = { id: 'store-2', key: 'dev-key-store-2' };
      const prefix = `SF-${name}-${Date.now().toString(36)}-`;
      const skus = Array.from({ length: 40 }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);
      const events = makeStockEvents(3_000, skus);
      let fault: Promise<void> | undefined;
      const stats = await uploadAll(store, events, {
        chunk: 100,
        parallel: 3,
        onChunk: (done) => {
          if (done === 8 && !fault) {
            fault = (async () => {
              await killApp(name, 'SIGTERM');
              startApp(name);
              await waitReady(name);
            })();
          }
        },
      });
      await fault;
      expect(fault).toBeDefined();
      expect(stats.accepted).toBe(events.length);
      // A store sending part of its upload again (as after a lost answer) changes nothing.
      const resent = events.filter((_, i) => i % 10 === 0);
      await uploadAll(store, resent, { chunk: 100, parallel: 2 });
      const loadDone = Date.now();
      const expected = referenceLevels(events);
      await expectLevels(store.id, expected);
      say(
        `SIGTERM ${name} during 3000 events (${stats.requests} requests of 100, ${stats.retries} retried on 503/network errors, ` +
          `${resent.length} resent); every accepted event counted once: ${expected.size} levels equal the reference; ` +
          `settled in ${seconds(Date.now() - loadDone)}`,
      );
    });
  });

  describe('a saga stopped at each transition, then let go: every purchase terminal, money and stock conserved', () => {
    it('after the debit, after the reservation, before completion, during a refund (kill -9 of account and shop at each point)', async () => {
      // Long enough that no purchase is voided while the test holds it: the void has a test of its own.
      const slowVoid = { PURCHASE_VOID_AFTER_MS: '120000' };
      customized.add('account');
      const books = new Books();
      const users = await books.users(3, 100_000, 'stop');
      const sku = await books.item(10, PRICE);
      const probe = await SagaProbe.open(RABBITMQ_URL, []);
      probes.push(probe);
      const points: string[] = [];

      // 1. After the debit: shop's inbox is held, so every ReserveStock waits; account dies with all of them debited.
      const shopInbox = await probe.hold(SagaQueues.Shop);
      const accepted = await purchaseLoad(books, users, [sku], 30, { parallel: 5 });
      await waitFor('a ReserveStock for every purchase (each debited first)', () => covers(idsOf(shopInbox, SagaRoutingKeys.ReserveStock), accepted), {
        timeoutMs: 30_000,
      });
      for (const user of users) {
        const debits = accepted.filter((a) => a.user === user).length * PRICE;
        expect((await call('GET', '/v1/me', { token: user.token })).body.balance).toBe(100_000 - debits);
      }
      await crashRestart('account', slowVoid);
      points.push(`after the debit: ${accepted.length} debited, none reserved, account kill -9`);

      // 2. After the reservation: shop answers into account's held inbox, and dies once every purchase has its answer.
      const accountInbox = await probe.hold(SagaQueues.Account);
      await shopInbox.release();
      await waitFor(
        'an answer from shop for every purchase',
        () => covers(idsOf(accountInbox, SagaRoutingKeys.StockReserved, SagaRoutingKeys.StockReservationFailed), accepted),
        { timeoutMs: 60_000 },
      );
      const reserved = idsOf(accountInbox, SagaRoutingKeys.StockReserved);
      const failed = idsOf(accountInbox, SagaRoutingKeys.StockReservationFailed);
      expect(reserved.size).toBe(10);
      await crashRestart('shop');
      points.push(`after the reservation: ${reserved.size} reserved and ${failed.size} refused, shop kill -9`);

      // 3. Before completion: account dies again with every answer unseen.
      const stillPending = (await Promise.all(users.map(allPurchases))).flat().filter((p: any) => p && p.status === 'PENDING').length;
      expect(stillPending).toBe(30);
      await crashRestart('account', slowVoid);
      points.push(`before completion: ${stillPending} PENDING, account kill -9`);

      // 4. During the refunds: the answers go through, and account dies as soon as the first refund is done.
      await accountInbox.release();
      const atKill = await waitFor(
        'the first refund to finish',
        async () => {
          const all = (await Promise.all(users.map(allPurchases))).flat() as any[];
          return all.some((p) => p && p.status === 'CANCELLED') ? all : false;
        },
        { timeoutMs: 30_000, intervalMs: 10 },
      );
      await killApp('account', 'SIGKILL');
      const refundsOpen = atKill.filter((p) => failed.has(p.purchaseId) && p.status === 'PENDING').length;
      startApp('account', slowVoid);
      await waitReady('account');
      points.push(`during the refunds: ${atKill.filter((p) => p.status === 'CANCELLED').length} refunded, ${refundsOpen} refunds under way, account kill -9`);

      const { purchases, byStatus, settledInMs } = await expectConserved(books);
      expect(byStatus).toEqual({ COMPLETED: 10, CANCELLED: 20 });
      const mails = await expectOneMailEach(purchases, books);
      say(
        `saga stopped ${points.join('; ')}; 30 terminal (${describeStatuses(byStatus)}); money and stock conserved; ` +
          `${mails.mails} mails, none twice; settled in ${seconds(settledInMs)}`,
      );
    });

    it('during a void: the only account instance loses its broker connection while it voids', async () => {
      const books = new Books();
      const users = await books.users(2, 100_000, 'void');
      const sku = await books.item(20, PRICE);
      const probe = await SagaProbe.open(RABBITMQ_URL, [SagaRoutingKeys.ReservationVoided, SagaRoutingKeys.StockReservationFailed]);
      probes.push(probe);
      const proxy = await startProxy(5672);
      proxies.push(proxy);
      const account = startExtraApp('account', EXTRA_ACCOUNT_PORT, {
        RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
        PURCHASE_RETRY_AFTER_MS: '500',
        PURCHASE_VOID_AFTER_MS: '2000',
      });
      extras.push(account);
      await account.ready();
      await killApp('account', 'SIGTERM'); // the extra instance, voiding after 2 s, drives every purchase alone

      const shopInbox = await probe.hold(SagaQueues.Shop);
      const accepted = await purchaseLoad(books, users, [sku], 10, { parallel: 5 });
      await waitFor('a VoidReservation for every purchase', () => covers(idsOf(shopInbox, SagaRoutingKeys.VoidReservation), accepted), {
        timeoutMs: 30_000,
      });
      proxy.reset();
      await waitFor('the extra account to see the broker gone', async () => (await readyStatus(account.url)) === 503, { timeoutMs: 30_000 });
      await shopInbox.release();
      await waitFor(
        'shop to answer every void while no account listens',
        () => covers(new Set(probe.received.map((m) => String(m.body.purchaseId))), accepted),
        {
          timeoutMs: 30_000,
        },
      );
      const pending = accepted.length;
      proxy.restore();
      await account.ready(60_000);

      const { purchases, byStatus, settledInMs } = await expectConserved(books);
      expect(byStatus).toEqual({ CANCELLED: 10 });
      for (const p of purchases) expect(p.reason).toMatch(/did not confirm the reservation/);
      const mails = await expectOneMailEach(purchases, books);
      say(
        `saga stopped during a void: ${pending} purchases VOIDING, shop's inbox held, then the account's broker link reset; ` +
          `shop answered every void with no account listening; link restored: 10 terminal (${describeStatuses(byStatus)}); ` +
          `money and stock conserved; ${mails.mails} mails, none twice; settled in ${seconds(settledInMs)}`,
      );
    });
  });

  it('the price changes 25 times while 100 purchases run: each is charged a price the catalog served before its acceptance', async () => {
    const books = new Books();
    const users = await books.users(4, 10_000_000, 'price');
    const sku = await books.item(1_000, 500);
    const token = await admin();
    const served: { sentAt: number; receivedAt: number; price: number }[] = [];
    const set: { at: number; price: number }[] = [];
    let running = true;

    const watcher = (async () => {
      while (running) {
        const sentAt = Date.now();
        const reply = await call('GET', `/v1/items/${sku}`).catch(() => undefined);
        if (reply?.status === 200) served.push({ sentAt, receivedAt: Date.now(), price: reply.body.price });
        await new Promise((resolve) => setTimeout(resolve, 20)); // the watcher's pace
      }
    })();
    const prices = Array.from({ length: 25 }, (_, i) => 300 + ((i * 37) % 25) * 13); // 25 distinct prices, up and down
    const changer = (async () => {
      for (const price of prices) {
        const reply = await call('PATCH', `/v1/admin/items/${sku}/price`, { token, body: { price } });
        expect(reply.status).toBe(202);
        set.push({ at: Date.now(), price });
        await new Promise((resolve) => setTimeout(resolve, 150)); // the admin's pace
      }
    })();
    const started = Date.now();
    const accepted = await purchaseLoad(books, users, [sku], 100, { parallel: 4, paceMs: 100, quantity: (i) => 1 + (i % 3) });
    await changer;
    running = false;
    await watcher;
    const loadMs = Date.now() - started;

    const { purchases, byStatus } = await expectConserved(books);
    expect(byStatus).toEqual({ COMPLETED: 100 });
    const byId = new Map(purchases.map((p) => [p.purchaseId, p]));
    const servedPrices = new Set(served.map((s) => s.price));
    // When each price became what the catalog serves: its first read, or the admin's 202 if earlier (the api
    // evicts its cached copy before it answers the PATCH, so every read after that gets this price or a newer one).
    const timeline = [{ at: 0, price: 500 }, ...set];
    const visibleFrom = (price: number) => {
      const firstRead = served.find((s) => s.price === price)?.receivedAt ?? Infinity;
      const setAt = timeline.find((s) => s.price === price)?.at ?? Infinity;
      return Math.min(firstRead, setAt);
    };
    const supersededAt = (price: number) => {
      const i = timeline.findIndex((s) => s.price === price);
      return i >= 0 && i + 1 < timeline.length ? visibleFrom(timeline[i + 1].price) : Infinity;
    };
    const charged = new Set<number>();
    const wrong: string[] = [];
    let readBefore = 0;
    for (const a of accepted) {
      const p = byId.get(a.purchaseId);
      const unit = p.amount / p.quantity;
      charged.add(unit);
      if (served.some((s) => s.price === unit && s.sentAt <= a.acceptedAt)) readBefore++;
      // Really served (a read returned it), visible by the 202, and not replaced more than a cache lifetime before the POST.
      const ok = servedPrices.has(unit) && visibleFrom(unit) <= a.acceptedAt && supersededAt(unit) >= a.sentAt - CATALOG_CACHE_TTL_MS;
      if (!ok) {
        wrong.push(
          `${a.purchaseId}: charged ${unit}/unit (POST ${new Date(a.sentAt).toISOString()}, 202 at ${new Date(a.acceptedAt).toISOString()}); ` +
            `catalog visible from ${Number.isFinite(visibleFrom(unit)) ? new Date(visibleFrom(unit)).toISOString() : 'never'}, ` +
            `replaced at ${Number.isFinite(supersededAt(unit)) ? new Date(supersededAt(unit)).toISOString() : 'never'}`,
        );
      }
    }
    say(
      `price set ${set.length} times (${servedPrices.size} distinct prices served in ${served.length} catalog reads) during 100 purchases ` +
        `over ${seconds(loadMs)}; ${charged.size} distinct unit prices charged; ${100 - wrong.length} charged a price the catalog served ` +
        `by the 202 and within ${CATALOG_CACHE_TTL_MS} ms before the POST, ${wrong.length} not (${readBefore} with a sampled read of that ` +
        `price before the 202, the rest priced in the ms between the admin's 202 and the next read); money and stock conserved`,
    );
    expect(servedPrices.size).toBeGreaterThanOrEqual(20);
    expect(wrong).toEqual([]);
  });

  describe('a broker restart mid-load: the saga and mail paths lose nothing and double nothing', () => {
    // Stops RabbitMQ: only one this checkout started (else reported as skipped, with the reason).
    const itRestartingRabbitmq = itWhenControlledHere('rabbitmq', 'RabbitMQ');

    itRestartingRabbitmq('RabbitMQ restarted as a process during 60 purchases', async () => {
      const books = new Books();
      const users = await books.users(3, 100_000, 'mq');
      const skus = [await books.item(25, PRICE), await books.item(25, PRICE)];
      let restarted: Promise<void> | undefined;
      await purchaseLoad(books, users, skus, 60, {
        parallel: 5,
        deadlineMs: 180_000,
        onAccepted: (count) => {
          if (count === 20 && !restarted) {
            restarted = (async () => {
              infra('restart', 'rabbitmq');
              await everyAppReady();
            })();
          }
        },
      });
      await restarted;
      expect(restarted).toBeDefined();
      const { purchases, byStatus, settledInMs } = await expectConserved(books, 180_000);
      expect(byStatus).toEqual({ COMPLETED: 50, CANCELLED: 10 });
      const mails = await expectOneMailEach(purchases, books, 180_000);
      say(
        `RabbitMQ restarted during 60 purchases; 60 terminal (${describeStatuses(byStatus)}); money and stock conserved; ` +
          `${mails.mails} mails, none twice; settled in ${seconds(settledInMs)}`,
      );
    });

    it('an extra account and an extra mailer lose their broker connection for a while during 80 purchases (as in a broker restart)', async () => {
      const proxy = await startProxy(5672);
      proxies.push(proxy);
      const viaProxy = { RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}` };
      const account = startExtraApp('account', EXTRA_ACCOUNT_PORT, viaProxy);
      const mailer = startExtraApp('mailer', EXTRA_MAILER_PORT, viaProxy);
      extras.push(account, mailer);
      await Promise.all([account.ready(), mailer.ready()]);

      const books = new Books();
      const users = await books.users(4, 100_000, 'link');
      const skus = [await books.item(30, PRICE), await books.item(30, PRICE)];
      let outage: Promise<number> | undefined;
      await purchaseLoad(books, users, skus, 80, {
        parallel: 6,
        onAccepted: (count) => {
          if (count === 25 && !outage) {
            outage = (async () => {
              const cutAt = Date.now();
              proxy.reset();
              await waitFor(
                'both extra instances to see the broker gone',
                async () => (await readyStatus(account.url)) === 503 && (await readyStatus(mailer.url)) === 503,
                {
                  timeoutMs: 30_000,
                },
              );
              proxy.restore();
              const restoredAt = Date.now();
              await Promise.all([account.ready(60_000), mailer.ready(60_000)]);
              return restoredAt - cutAt;
            })();
          }
        },
      });
      const cutMs = await outage!;
      const { purchases, byStatus, settledInMs } = await expectConserved(books);
      expect(byStatus).toEqual({ COMPLETED: 60, CANCELLED: 20 });
      const mails = await expectOneMailEach(purchases, books);
      say(
        `broker link of an extra account and an extra mailer reset for ${seconds(cutMs)} during 80 purchases; ` +
          `80 terminal (${describeStatuses(byStatus)}); money and stock conserved; ${mails.mails} mails, none twice; settled in ${seconds(settledInMs)}`,
      );
    });
  });
});
