import { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { validateEnv } from '@app/config';
import { DomainError, ItemPage, PriceChanged, SagaQueues, SagaRoutingKeys, ShopRpc, RpcContract, ReplyOf, Topics } from '@app/contracts';
import { createKafka, RabbitClient, RabbitRecord, RabbitServer } from '@app/messaging';
import { waitFor } from '@app/testing';
import { ShopEnv } from '../src/config/shop.env';
import { ItemsRepository } from '../src/items/items.repository';
import { PriceOutboxRepository } from '../src/price-outbox/price-outbox.repository';
import { ShopModule } from '../src/shop.module';
import { SagaProbe } from './saga-probe';

jest.setTimeout(120_000);

const run = randomUUID().slice(0, 8);
const sku = (name: string) => `it-${name}-${run}`;

describe('shop (integration: real Cassandra, RabbitMQ, Kafka)', () => {
  let app: INestApplication;
  let rpc: RabbitClient;
  let probe: SagaProbe;
  let env: ShopEnv;

  beforeAll(async () => {
    env = validateEnv(ShopEnv, { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn' });
    const moduleRef = await Test.createTestingModule({ imports: [ShopModule.forEnv(env)] }).compile();
    app = moduleRef.createNestApplication(new FastifyAdapter());
    app.connectMicroservice({ strategy: app.get(RabbitServer) });
    await app.init();
    await app.startAllMicroservices();
    rpc = app.get(RabbitClient);
    probe = await SagaProbe.open(env.RABBITMQ_URL, ['account.#']);
  });

  afterAll(async () => {
    await probe?.close();
    await app?.close();
  });

  const call = <D extends RpcContract>(contract: D, request: object): Promise<ReplyOf<D>> =>
    rpc.request(contract, new RabbitRecord(request, { timeoutMs: 10_000 })) as Promise<ReplyOf<D>>;

  async function answerFor(purchaseId: string) {
    return waitFor(`an answer for ${purchaseId}`, () => probe.about(purchaseId)[0], { timeoutMs: 30_000 });
  }

  describe('items over RPC', () => {
    it('creates, refuses a second create of the same sku, restocks and reads back', async () => {
      const s = sku('crud');
      const created = await call(ShopRpc.CreateItem, { sku: s, name: 'Lamp', price: 1999, quantity: 3 });
      expect(created).toEqual({ sku: s, name: 'Lamp', price: 1999, quantity: 3, priceVersion: 0 });

      await expect(call(ShopRpc.CreateItem, { sku: s, name: 'Other', price: 1, quantity: 1 })).rejects.toMatchObject({
        code: 'ITEM.EXISTS',
        kind: 'conflict',
      });
      const restocked = await call(ShopRpc.RestockItem, { sku: s, quantity: 4 });
      expect(restocked.quantity).toBe(7);
      await expect(call(ShopRpc.GetItem, { sku: s })).resolves.toMatchObject({ quantity: 7, name: 'Lamp', price: 1999 });
    });

    it('answers not_found for an unknown sku and invalid for a bad request', async () => {
      await expect(call(ShopRpc.GetItem, { sku: sku('missing') })).rejects.toMatchObject({ code: 'ITEM.NOT_FOUND', kind: 'not_found' });
      await expect(call(ShopRpc.RestockItem, { sku: sku('missing'), quantity: 1 })).rejects.toMatchObject({ kind: 'not_found' });
      const error = await call(ShopRpc.CreateItem, { sku: 'bad sku!', name: '', price: -1, quantity: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ kind: 'invalid' });
    });

    it('lists every item once across pages and refuses an altered page token', async () => {
      const skus = Array.from({ length: 7 }, (_, i) => sku(`list${i}`));
      await Promise.all(skus.map((s) => call(ShopRpc.CreateItem, { sku: s, name: s, price: 100, quantity: 1 })));
      const seen: string[] = [];
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const page: ItemPage = await call(ShopRpc.ListItems, { limit: 50, ...(pageToken ? { pageToken } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(50);
        seen.push(...page.items.map((i) => i.sku));
        pageToken = page.nextPageToken ?? undefined;
        pages++;
      } while (pageToken && pages < 1000);
      expect(new Set(seen).size).toBe(seen.length);
      for (const s of skus) expect(seen).toContain(s);

      const first = await call(ShopRpc.ListItems, { limit: 1 });
      expect(first.nextPageToken).toEqual(expect.any(String));
      const tampered = first.nextPageToken!.replace(/^./, (c) => (c === 'e' ? 'f' : 'e'));
      await expect(call(ShopRpc.ListItems, { limit: 1, pageToken: tampered })).rejects.toMatchObject({ code: 'ITEM.INVALID_PAGE_TOKEN' });
    });
  });

  describe('the saga', () => {
    it('gives the last unit to exactly one of 50 concurrent ReserveStock', async () => {
      const s = sku('last');
      await call(ShopRpc.CreateItem, { sku: s, name: 'Last one', price: 500, quantity: 1 });
      const purchases = Array.from({ length: 50 }, () => randomUUID());
      await Promise.all(
        purchases.map((purchaseId) => probe.publish(SagaRoutingKeys.ReserveStock, { purchaseId, sku: s, quantity: 1, requestedAt: new Date().toISOString() })),
      );
      const answers = await Promise.all(purchases.map(answerFor));
      const reserved = answers.filter((a) => a.routingKey === SagaRoutingKeys.StockReserved);
      const failed = answers.filter((a) => a.routingKey === SagaRoutingKeys.StockReservationFailed);
      expect(reserved).toHaveLength(1);
      expect(failed).toHaveLength(49);
      expect(failed.every((f) => f.body.code === 'OUT_OF_STOCK')).toBe(true);
      await expect(call(ShopRpc.GetItem, { sku: s })).resolves.toMatchObject({ quantity: 0 });
    });

    it('answers a redelivered ReserveStock the same way and takes the units once', async () => {
      const s = sku('idem');
      await call(ShopRpc.CreateItem, { sku: s, name: 'Idem', price: 500, quantity: 5 });
      const purchaseId = randomUUID();
      const command = { purchaseId, sku: s, quantity: 2, requestedAt: new Date().toISOString() };
      await Promise.all([probe.publish(SagaRoutingKeys.ReserveStock, command), probe.publish(SagaRoutingKeys.ReserveStock, command)]);
      await waitFor('two answers', () => probe.about(purchaseId).length >= 2 || undefined, { timeoutMs: 30_000 });
      await probe.publish(SagaRoutingKeys.ReserveStock, command);
      await waitFor('three answers', () => probe.about(purchaseId).length >= 3 || undefined, { timeoutMs: 30_000 });
      const answers = probe.about(purchaseId);
      expect(answers.every((a) => a.routingKey === SagaRoutingKeys.StockReserved)).toBe(true);
      expect(answers.every((a) => a.messageId === `stock-reserved:${purchaseId}`)).toBe(true);
      expect(answers[0].correlationId).toMatch(/^test-/);
      await expect(call(ShopRpc.GetItem, { sku: s })).resolves.toMatchObject({ quantity: 3 });
    });

    it('returns the units on a void and refuses a ReserveStock after it', async () => {
      const s = sku('void');
      await call(ShopRpc.CreateItem, { sku: s, name: 'Void', price: 500, quantity: 5 });
      const purchaseId = randomUUID();
      await probe.publish(SagaRoutingKeys.ReserveStock, { purchaseId, sku: s, quantity: 3, requestedAt: new Date().toISOString() });
      await waitFor('reserved', () => probe.about(purchaseId).find((m) => m.routingKey === SagaRoutingKeys.StockReserved));
      await expect(call(ShopRpc.GetItem, { sku: s })).resolves.toMatchObject({ quantity: 2 });

      await probe.publish(SagaRoutingKeys.VoidReservation, { purchaseId, sku: s, quantity: 3 });
      await probe.publish(SagaRoutingKeys.VoidReservation, { purchaseId, sku: s, quantity: 3 });
      await waitFor(
        'two voided answers',
        () => probe.about(purchaseId).filter((m) => m.routingKey === SagaRoutingKeys.ReservationVoided).length === 2 || undefined,
      );
      await expect(call(ShopRpc.GetItem, { sku: s })).resolves.toMatchObject({ quantity: 5 });

      await probe.publish(SagaRoutingKeys.ReserveStock, { purchaseId, sku: s, quantity: 3, requestedAt: new Date().toISOString() });
      const refused = await waitFor('refused', () => probe.about(purchaseId).find((m) => m.routingKey === SagaRoutingKeys.StockReservationFailed));
      expect(refused.body).toMatchObject({ code: 'VOIDED' });
      await expect(call(ShopRpc.GetItem, { sku: s })).resolves.toMatchObject({ quantity: 5 });
    });

    it('voids a purchase it never saw, and refuses to reserve for it afterwards', async () => {
      const s = sku('void-first');
      await call(ShopRpc.CreateItem, { sku: s, name: 'Void first', price: 500, quantity: 5 });
      const purchaseId = randomUUID();
      await probe.publish(SagaRoutingKeys.VoidReservation, { purchaseId, sku: s, quantity: 1 });
      await waitFor('voided', () => probe.about(purchaseId).find((m) => m.routingKey === SagaRoutingKeys.ReservationVoided));
      await probe.publish(SagaRoutingKeys.ReserveStock, { purchaseId, sku: s, quantity: 1, requestedAt: new Date().toISOString() });
      const refused = await waitFor('refused', () => probe.about(purchaseId).find((m) => m.routingKey === SagaRoutingKeys.StockReservationFailed));
      expect(refused.body).toMatchObject({ code: 'VOIDED' });
      await expect(call(ShopRpc.GetItem, { sku: s })).resolves.toMatchObject({ quantity: 5 });
    });

    it('fails a reservation of an unknown sku, and the sku stays unknown', async () => {
      const s = sku('ghost');
      const purchaseId = randomUUID();
      await probe.publish(SagaRoutingKeys.ReserveStock, { purchaseId, sku: s, quantity: 1, requestedAt: new Date().toISOString() });
      const failed = await answerFor(purchaseId);
      expect(failed).toMatchObject({ routingKey: SagaRoutingKeys.StockReservationFailed, body: { code: 'UNKNOWN_SKU' } });
      await expect(call(ShopRpc.GetItem, { sku: s })).rejects.toMatchObject({ kind: 'not_found' });
      // The sku can still be created afterwards.
      await expect(call(ShopRpc.CreateItem, { sku: s, name: 'Ghost', price: 1, quantity: 1 })).resolves.toMatchObject({ sku: s });
    });

    describe('a purchase of several lines', () => {
      const reserveLines = (purchaseId: string, lines: { sku: string; quantity: number }[]) =>
        probe.publish(SagaRoutingKeys.ReserveStock, { purchaseId, ...lines[0], lines, requestedAt: new Date().toISOString() });
      const quantities = (skus: string[]) => Promise.all(skus.map(async (s) => (await call(ShopRpc.GetItem, { sku: s })).quantity));

      it('reserves every line together, and a redelivery takes nothing more', async () => {
        const skus = [sku('cart-a'), sku('cart-b'), sku('cart-c')];
        await Promise.all(skus.map((s) => call(ShopRpc.CreateItem, { sku: s, name: s, price: 100, quantity: 5 })));
        const purchaseId = randomUUID();
        const lines = skus.map((s, i) => ({ sku: s, quantity: i + 1 }));
        await Promise.all([reserveLines(purchaseId, lines), reserveLines(purchaseId, lines)]);
        await waitFor('two answers', () => probe.about(purchaseId).length >= 2 || undefined, { timeoutMs: 30_000 });
        expect(probe.about(purchaseId).map((a) => a.routingKey)).toEqual([SagaRoutingKeys.StockReserved, SagaRoutingKeys.StockReserved]);
        expect(await quantities(skus)).toEqual([4, 3, 2]);
      });

      it('holds nothing when one line cannot be supplied, and names that line', async () => {
        const skus = [sku('cart-ok1'), sku('cart-short'), sku('cart-ok2')];
        await Promise.all(skus.map((s, i) => call(ShopRpc.CreateItem, { sku: s, name: s, price: 100, quantity: i === 1 ? 1 : 5 })));
        const purchaseId = randomUUID();
        const lines = skus.map((s) => ({ sku: s, quantity: 2 }));
        await reserveLines(purchaseId, lines);
        const failed = await answerFor(purchaseId);
        expect(failed).toMatchObject({ routingKey: SagaRoutingKeys.StockReservationFailed, body: { code: 'OUT_OF_STOCK' } });
        expect(String(failed.body.reason)).toContain(skus[1]);
        expect(await quantities(skus)).toEqual([5, 1, 5]);

        // A redelivery (as after a crash between the lines) reaches the same answer and takes nothing.
        await reserveLines(purchaseId, lines);
        await waitFor('a second answer', () => probe.about(purchaseId).length >= 2 || undefined, { timeoutMs: 30_000 });
        expect(probe.about(purchaseId)[1]).toMatchObject({ routingKey: SagaRoutingKeys.StockReservationFailed, body: { code: 'OUT_OF_STOCK' } });
        expect(await quantities(skus)).toEqual([5, 1, 5]);
      });

      it('fails on an unknown line and gives every other line back', async () => {
        const known = sku('cart-known');
        const ghost = sku('cart-ghost');
        await call(ShopRpc.CreateItem, { sku: known, name: known, price: 100, quantity: 3 });
        const purchaseId = randomUUID();
        await reserveLines(purchaseId, [
          { sku: known, quantity: 3 },
          { sku: ghost, quantity: 1 },
        ]);
        const failed = await answerFor(purchaseId);
        expect(failed.body).toMatchObject({ code: 'UNKNOWN_SKU' });
        expect(String(failed.body.reason)).toContain(ghost);
        expect(await quantities([known])).toEqual([3]);
      });

      it('returns every line on a void, even racing the reservation, and ends with nothing held', async () => {
        const skus = [sku('cart-v1'), sku('cart-v2')];
        await Promise.all(skus.map((s) => call(ShopRpc.CreateItem, { sku: s, name: s, price: 100, quantity: 4 })));
        const purchaseId = randomUUID();
        const lines = skus.map((s) => ({ sku: s, quantity: 2 }));
        await Promise.all([reserveLines(purchaseId, lines), probe.publish(SagaRoutingKeys.VoidReservation, { purchaseId, ...lines[0], lines })]);
        await waitFor(
          'the void answered',
          () => probe.about(purchaseId).some((m) => m.routingKey === SagaRoutingKeys.ReservationVoided) && probe.about(purchaseId).length >= 2,
          { timeoutMs: 30_000 },
        );
        // Whichever came first, the void bars the purchase: nothing stays held.
        await waitFor('every unit back', async () => (await quantities(skus)).every((q) => q === 4) || undefined, { timeoutMs: 30_000 });
        await reserveLines(purchaseId, lines);
        await waitFor('refused after the void', () => probe.about(purchaseId).length >= 3 || undefined, { timeoutMs: 30_000 });
        expect(probe.about(purchaseId)[2]).toMatchObject({ routingKey: SagaRoutingKeys.StockReservationFailed, body: { code: 'VOIDED' } });
        expect(await quantities(skus)).toEqual([4, 4]);
      });
    });

    it('dead-letters a poison command with its reason instead of retrying it forever', async () => {
      const messageId = `poison-${randomUUID()}`;
      await probe.publish(SagaRoutingKeys.ReserveStock, { purchaseId: '', sku: 'x', quantity: 1000 }, messageId);
      const dead = await waitFor(
        'the poison message in the dead-letter queue',
        () => probe.findInQueue(`${SagaQueues.Shop}.dlq`, (m) => m.messageId === messageId),
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(String(dead.headers['x-dead-letter-reason'])).toMatch(/invalid/i);
    });
  });

  describe('price changes', () => {
    let kafka: Kafka;
    beforeAll(() => {
      kafka = createKafka({ clientId: `shop-int-${run}`, brokers: env.kafkaBrokers });
    });

    it('records the new price with the next version and puts one PriceChanged per change on Kafka', async () => {
      const s = sku('price');
      await call(ShopRpc.CreateItem, { sku: s, name: 'Priced', price: 1000, quantity: 1 });
      const first = await call(ShopRpc.ChangePrice, { sku: s, price: 800 });
      const second = await call(ShopRpc.ChangePrice, { sku: s, price: 900 });
      expect(first).toMatchObject({ sku: s, oldPrice: 1000, newPrice: 800, version: 1 });
      expect(second).toMatchObject({ sku: s, oldPrice: 800, newPrice: 900, version: 2 });
      await expect(call(ShopRpc.GetItem, { sku: s })).resolves.toMatchObject({ price: 900, priceVersion: 2 });

      const events: PriceChanged[] = [];
      const consumer = kafka.consumer({ groupId: `shop-int-${run}` });
      await consumer.connect();
      await consumer.subscribe({ topic: Topics.PriceChanged, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString() !== s) return;
          events.push(JSON.parse(message.value!.toString()) as PriceChanged);
        },
      });
      try {
        await waitFor('both events on Kafka', () => events.length >= 2 || undefined, { timeoutMs: 60_000 });
        expect(events.map((e) => [e.version, e.oldPrice, e.newPrice])).toEqual([
          [1, 1000, 800],
          [2, 800, 900],
        ]);
        expect(events[0]).toMatchObject({ sku: s, name: 'Priced' });
      } finally {
        await consumer.disconnect();
      }
    });

    it('publishes a change recorded just before a crash (outbox written, Kafka not yet) exactly once', async () => {
      const s = sku('crash');
      await call(ShopRpc.CreateItem, { sku: s, name: 'Crashed', price: 1000, quantity: 1 });
      // What a shop that died right after its compare-and-set leaves behind: the marker and the outbox entry, nothing on Kafka.
      const repository = app.get(ItemsRepository);
      await app.get(PriceOutboxRepository).markOutbox(s);
      const event: PriceChanged = { sku: s, name: 'Crashed', oldPrice: 1000, newPrice: 600, version: 1, changedAt: new Date().toISOString() };
      expect(await repository.compareAndSetPrice(s, 0, 600, 1, event, new Date())).toBe(true);

      const events: PriceChanged[] = [];
      const consumer = kafka.consumer({ groupId: `shop-int-crash-${run}` });
      await consumer.connect();
      await consumer.subscribe({ topic: Topics.PriceChanged, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString() === s) events.push(JSON.parse(message.value!.toString()) as PriceChanged);
        },
      });
      try {
        await waitFor('the relay to publish the orphaned change', () => events.length >= 1 || undefined, { timeoutMs: 60_000 });
        await waitFor('the outbox entry to be removed', async () => (await app.get(PriceOutboxRepository).unpublished(s)).length === 0 || undefined);
        expect(events).toEqual([event]);
      } finally {
        await consumer.disconnect();
      }
    });
  });
});
