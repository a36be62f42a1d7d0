import { randomUUID } from 'node:crypto';
import { Client } from 'cassandra-driver';
import { createKafka, KafkaPublisher } from '@app/messaging';
import { PriceChanged, SagaRoutingKeys, Topics } from '@app/contracts';
import { appUrl, waitFor } from '@app/testing';
import { SagaProbe } from '../../shop/test/saga-probe';
import { admin, call, registerUser, unique } from './support/commerce';

jest.setTimeout(120_000);

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

async function newItem(quantity = 5, price = 1000) {
  const sku = unique('CAT');
  const reply = await call('POST', '/v1/admin/items', { token: await admin(), body: { sku, name: `Item ${sku}`, price, quantity } });
  expect(reply.status).toBe(201);
  return sku;
}

function expectErrorBody(body: any, statusCode: number) {
  expect(body).toEqual(expect.objectContaining({ statusCode, error: expect.any(String), message: expect.any(String) }));
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${appUrl('api')}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('catalog (e2e: api → shop over RabbitMQ, price changes over Kafka)', () => {
  describe('admin writes', () => {
    it('needs a token (401) and the admin role (403)', async () => {
      const body = { sku: unique('CAT'), name: 'x', price: 1, quantity: 1 };
      const anonymous = await call('POST', '/v1/admin/items', { body });
      expect(anonymous.status).toBe(401);
      expectErrorBody(anonymous.body, 401);
      const user = await registerUser('catalog');
      const forbidden = await call('POST', '/v1/admin/items', { token: user.token, body });
      expect(forbidden.status).toBe(403);
      expectErrorBody(forbidden.body, 403);
      expect((await call('PATCH', `/v1/admin/items/${body.sku}/price`, { token: user.token, body: { price: 1 } })).status).toBe(403);
      expect((await call('POST', `/v1/admin/items/${body.sku}/restock`, { body: { quantity: 1 } })).status).toBe(401);
    });

    it('creates an item (201), refuses the same sku again (409), restocks it (200)', async () => {
      const token = await admin();
      const sku = unique('CAT');
      const created = await call('POST', '/v1/admin/items', { token, body: { sku, name: 'Desk lamp', price: 2599, quantity: 4 } });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ sku, name: 'Desk lamp', price: 2599, quantity: 4 });

      const again = await call('POST', '/v1/admin/items', { token, body: { sku, name: 'Another', price: 1, quantity: 1 } });
      expect(again.status).toBe(409);
      expectErrorBody(again.body, 409);
      expect(again.body.message).toContain(sku);

      const restocked = await call('POST', `/v1/admin/items/${sku}/restock`, { token, body: { quantity: 6 } });
      expect(restocked.status).toBe(200);
      expect(restocked.body).toEqual({ sku, name: 'Desk lamp', price: 2599, quantity: 10 });
      expect((await call('GET', `/v1/items/${sku}`)).body).toEqual({ sku, name: 'Desk lamp', price: 2599, quantity: 10 });
    });

    it('answers 400 with the reason for bad bodies, 404 for an unknown sku', async () => {
      const token = await admin();
      const bad = await call('POST', '/v1/admin/items', { token, body: { sku: 'has space', name: '', price: -1, quantity: 1.5 } });
      expect(bad.status).toBe(400);
      expectErrorBody(bad.body, 400);
      expect(bad.body.message).toMatch(/sku/);
      expect(bad.body.message).toMatch(/price/);
      const extra = await call('POST', '/v1/admin/items', { token, body: { sku: unique('CAT'), name: 'x', price: 1, quantity: 1, color: 'red' } });
      expect(extra.status).toBe(400);

      const sku = await newItem();
      expect((await call('POST', `/v1/admin/items/${sku}/restock`, { token, body: { quantity: 0 } })).status).toBe(400);
      expect((await call('PATCH', `/v1/admin/items/${sku}/price`, { token, body: { price: -5 } })).status).toBe(400);

      const missing = unique('NOPE');
      for (const reply of [
        await call('GET', `/v1/items/${missing}`),
        await call('POST', `/v1/admin/items/${missing}/restock`, { token, body: { quantity: 1 } }),
        await call('PATCH', `/v1/admin/items/${missing}/price`, { token, body: { price: 1 } }),
      ]) {
        expect(reply.status).toBe(404);
        expectErrorBody(reply.body, 404);
      }
    });
  });

  describe('reads', () => {
    it('pages through every item exactly once with an opaque token, and checks limit and token', async () => {
      const mine = [await newItem(), await newItem(), await newItem()];
      const seen: string[] = [];
      let pageToken: string | null = null;
      let pages = 0;
      do {
        const query: string = pageToken ? `limit=2&pageToken=${encodeURIComponent(pageToken)}` : 'limit=2';
        const page = await call('GET', `/v1/items?${query}`);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        for (const item of page.body.items) expect(Object.keys(item).sort()).toEqual(['name', 'price', 'quantity', 'sku']);
        seen.push(...page.body.items.map((i: { sku: string }) => i.sku));
        pageToken = page.body.nextPageToken;
        pages++;
      } while (pageToken && pages < 5000);
      expect(new Set(seen).size).toBe(seen.length);
      for (const sku of mine) expect(seen).toContain(sku);

      const defaults = await call('GET', '/v1/items');
      expect(defaults.status).toBe(200);
      expect(defaults.body.items.length).toBeLessThanOrEqual(100);
      expect(defaults.body).toHaveProperty('nextPageToken');
      for (const limit of ['0', '1001', 'abc', '2.5']) {
        const reply = await call('GET', `/v1/items?limit=${limit}`);
        expect(reply.status).toBe(400);
        expect(reply.body.message).toMatch(/limit/);
      }
      const first = await call('GET', '/v1/items?limit=1');
      const tampered = `x${first.body.nextPageToken as string}`;
      const refused = await call('GET', `/v1/items?limit=1&pageToken=${encodeURIComponent(tampered)}`);
      expect(refused.status).toBe(400);
      expect(refused.body.message).toMatch(/pageToken/);
    });

    it('shows the quantity left right after a reservation, without waiting for the cache to expire', async () => {
      const sku = await newItem(5);
      expect((await call('GET', `/v1/items/${sku}`)).body.quantity).toBe(5); // now cached
      const probe = await SagaProbe.open(RABBITMQ_URL, [SagaRoutingKeys.StockReserved]);
      try {
        const purchaseId = randomUUID();
        await probe.publish(SagaRoutingKeys.ReserveStock, { purchaseId, sku, quantity: 2, requestedAt: new Date().toISOString() });
        await waitFor('the reservation', () => probe.about(purchaseId)[0], { timeoutMs: 30_000 });
        // Shorter than the cache TTL (2 s): the change notice, not the expiry, refreshes it.
        await waitFor('the new quantity', async () => (await call('GET', `/v1/items/${sku}`)).body.quantity === 3 || undefined, {
          timeoutMs: 1_000,
          intervalMs: 50,
        });
      } finally {
        await probe.close();
      }
    });
  });

  describe('price changes', () => {
    let cassandra: Client;
    beforeAll(async () => {
      cassandra = new Client({ contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1', keyspace: 'api' });
      await cassandra.connect();
    });
    afterAll(async () => {
      await cassandra?.shutdown();
    });

    async function viewOf(sku: string) {
      const row = (await cassandra.execute('SELECT price, version FROM catalog_items WHERE sku = ?', [sku], { prepare: true })).first();
      return row ? { price: Number(row.get('price')), version: Number(row.get('version')) } : undefined;
    }

    it('accepts a change (202), shows it within seconds, and ignores a replayed older event', async () => {
      const token = await admin();
      const sku = await newItem(3, 1000);
      expect((await call('GET', `/v1/items/${sku}`)).body.price).toBe(1000);

      const first = await call('PATCH', `/v1/admin/items/${sku}/price`, { token, body: { price: 800 } });
      expect(first.status).toBe(202);
      expect(first.body).toMatchObject({ sku, oldPrice: 1000, newPrice: 800, version: 1 });
      const second = await call('PATCH', `/v1/admin/items/${sku}/price`, { token, body: { price: 700 } });
      expect(second.status).toBe(202);
      expect(second.body).toMatchObject({ version: 2 });

      await waitFor('the new price in the catalog', async () => (await call('GET', `/v1/items/${sku}`)).body.price === 700 || undefined, {
        timeoutMs: 5_000,
      });
      // The api's own consumer (group api) has recorded version 2 in its view.
      await waitFor('the view at version 2', async () => ((await viewOf(sku))?.version === 2 ? true : undefined), { timeoutMs: 30_000 });

      // Replay the older event, as a stale redelivery would.
      const staleBefore = await metric('api_price_changed_events_total', 'outcome="stale"');
      const kafka = new KafkaPublisher(createKafka({ clientId: `catalog-e2e-${randomUUID().slice(0, 8)}`, brokers: KAFKA_BROKERS }));
      const stale: PriceChanged = { sku, name: `Item ${sku}`, oldPrice: 1000, newPrice: 800, version: 1, changedAt: new Date().toISOString() };
      try {
        await kafka.publish(Topics.PriceChanged, [{ key: sku, value: stale, messageId: `price-changed:${sku}:1` }]);
      } finally {
        await kafka.onApplicationShutdown();
      }
      await waitFor(
        'the api to see the stale event',
        async () => (await metric('api_price_changed_events_total', 'outcome="stale"')) > staleBefore || undefined,
        {
          timeoutMs: 30_000,
        },
      );
      expect(await viewOf(sku)).toEqual({ price: 700, version: 2 });
      expect((await call('GET', `/v1/items/${sku}`)).body.price).toBe(700);
    });
  });
});
