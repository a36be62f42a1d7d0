import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientGrpcProxy } from '@nestjs/microservices';
import { firstValueFrom, Observable } from 'rxjs';
import { InventoryGrpc, inventoryGrpcOptions } from '@app/contracts/shop/inventory-grpc';
import { appUrl, E2E_PORT_BASE, E2E_SHOP_GRPC_PORT, ExtraApp, startExtraApp, waitFor } from '@app/testing';
import { admin, balanceOf, call, createItem, credit, itemQuantity, login, registerUser, TestUser, unique, waitTerminal } from './support/commerce';

jest.setTimeout(180_000);

/** An api of our own with a cart that lives a few seconds (CART_TTL_DAYS accepts decimals). */
const SHORT_TTL_API_PORT = E2E_PORT_BASE + 35;
const SHORT_TTL_DAYS = 0.00004; // 3.456 s

/** The success path needs the multi-line purchase (PurchasesService.placeLines); skipped until it exists. */
const placeLinesExists = readFileSync(join(__dirname, '../src/purchases/purchases.service.ts'), 'utf8').includes('placeLines(');
const withPlaceLines = placeLinesExists ? it : it.skip;

const put = (user: TestUser, sku: string, quantity: unknown, base?: string) =>
  call('PUT', `/v1/me/cart/items/${sku}`, { token: user.token, body: { quantity }, base });
const cartOf = (user: TestUser, base?: string) => call('GET', '/v1/me/cart', { token: user.token, base });
const checkout = (user: TestUser, body: object = {}, key?: string) =>
  call('POST', '/v1/me/cart/checkout', { token: user.token, body, headers: key ? { 'idempotency-key': key } : {} });

describe('the cart (e2e)', () => {
  const extras: ExtraApp[] = [];
  afterAll(async () => {
    for (const extra of extras.splice(0)) await extra.stop();
  });

  it('is kept across sessions: a second login sees the same lines, at the catalog’s prices, with the total and its time to live', async () => {
    const user = await registerUser('cart');
    const [a, b] = [await createItem(10, 250), await createItem(3, 1_000)];
    expect((await put(user, a, 2)).status).toBe(200);
    const second = await put(user, b, 1);
    expect(second.status).toBe(200);
    expect(second.body.items).toHaveLength(2);

    const token = await login(user.email, user.password);
    expect(token).not.toBe(user.token);
    const reply = await call('GET', '/v1/me/cart', { token });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body).toEqual({
      items: expect.arrayContaining([
        { sku: a, name: `Item ${a}`, price: 250, quantity: 2, available: true },
        { sku: b, name: `Item ${b}`, price: 1_000, quantity: 1, available: true },
      ]),
      total: 2 * 250 + 1_000,
      updatedAt: expect.any(String),
      expiresAt: expect.any(String),
    });
    const ttl = Date.parse(reply.body.expiresAt) - Date.parse(reply.body.updatedAt);
    expect(Math.abs(ttl - 30 * 86_400_000)).toBeLessThan(60_000);

    // PUT sets the quantity (it does not add to it); DELETE of a line answers the cart.
    expect((await put(user, a, 5)).body.items.find((i: { sku: string }) => i.sku === a).quantity).toBe(5);
    const removed = await call('DELETE', `/v1/me/cart/items/${b}`, { token });
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ items: [{ sku: a, quantity: 5 }], total: 5 * 250 });
    // Removing a line that is not there changes nothing.
    expect((await call('DELETE', `/v1/me/cart/items/${b}`, { token })).body.items).toHaveLength(1);

    const cleared = await call('DELETE', '/v1/me/cart', { token });
    expect(cleared.status).toBe(204);
    expect((await cartOf(user)).body).toEqual({ items: [], total: 0, updatedAt: null, expiresAt: null });
    // Another user's cart is their own.
    expect((await cartOf(await registerUser('cart-other'))).body.items).toEqual([]);
  });

  it('holds at most 50 lines, also when 50 are added at once (none lost); a 51st is a 409, a line already there can still change', async () => {
    const user = await registerUser('cart-50');
    const skus = await Promise.all(Array.from({ length: 51 }, () => createItem(5, 10)));
    const replies = await Promise.all(skus.slice(0, 50).map((sku) => put(user, sku, 1)));
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect((await cartOf(user)).body.items).toHaveLength(50);

    const refused = await put(user, skus[50], 1);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ statusCode: 409, error: 'Conflict', code: 'CART.FULL', message: expect.stringMatching(/50 lines/) });
    expect((await put(user, skus[0], 3)).status).toBe(200);
    const cart = (await cartOf(user)).body;
    expect(cart.items).toHaveLength(50);
    expect(cart.total).toBe(52 * 10);
    expect(cart.items.map((i: { sku: string }) => i.sku)).not.toContain(skus[50]);

    // Racing for the last free line: exactly one of two new skus gets it.
    await call('DELETE', `/v1/me/cart/items/${skus[1]}`, { token: user.token });
    const extra = await createItem(5, 10);
    const race = await Promise.all([put(user, skus[50], 1), put(user, extra, 1)]);
    expect(race.map((r) => r.status).sort()).toEqual([200, 409]);
    expect((await cartOf(user)).body.items).toHaveLength(50);
  });

  it('is forgotten its time to live after the last change, and every change starts that time again', async () => {
    const api = startExtraApp('api', SHORT_TTL_API_PORT, { CART_TTL_DAYS: String(SHORT_TTL_DAYS) });
    extras.push(api);
    await api.ready();
    const user = await registerUser('cart-ttl');
    const sku = await createItem(10, 100);
    const first = await put(user, sku, 1, api.url);
    expect(first.status).toBe(200);
    const ttlMs = Date.parse(first.body.expiresAt) - Date.parse(first.body.updatedAt);
    expect(Math.abs(ttlMs - SHORT_TTL_DAYS * 86_400_000)).toBeLessThan(500);

    // A change after more than half of it: the cart outlives its first expiry.
    const firstExpiry = Date.parse(first.body.expiresAt);
    await waitFor('more than half of the time to live to pass', () => Date.now() > Date.parse(first.body.updatedAt) + ttlMs * 0.6, { timeoutMs: 10_000 });
    const second = await put(user, sku, 2, api.url);
    expect(Date.parse(second.body.expiresAt) - firstExpiry).toBeGreaterThan(ttlMs * 0.5);
    await waitFor('the first expiry to pass', () => Date.now() > firstExpiry + 300, { timeoutMs: 10_000 });
    expect((await cartOf(user, api.url)).body.items).toEqual([{ sku, name: `Item ${sku}`, price: 100, quantity: 2, available: true }]);

    const emptied = await waitFor(
      'the cart to be forgotten',
      async () => {
        const reply = await cartOf(user, api.url);
        return reply.body.items.length === 0 ? reply : false;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(second.body.expiresAt) - 50);
    expect(emptied.body).toEqual({ items: [], total: 0, updatedAt: null, expiresAt: null });
  });

  it('says a line is not available when the shop has fewer units than it asks for', async () => {
    const user = await registerUser('cart-stock');
    const sku = await createItem(2, 300);
    expect((await put(user, sku, 5)).body.items).toEqual([{ sku, name: `Item ${sku}`, price: 300, quantity: 5, available: false }]);
    expect((await put(user, sku, 2)).body.items[0].available).toBe(true);
  });

  it('shows prices as the catalog has them now: a price change shows within seconds', async () => {
    const user = await registerUser('cart-price');
    const sku = await createItem(10, 500);
    expect((await put(user, sku, 3)).body.total).toBe(1_500);
    const changed = await call('PATCH', `/v1/admin/items/${sku}/price`, { token: await admin(), body: { price: 420 } });
    expect(changed.status).toBe(202);
    const cart = await waitFor('the cart to show the new price', async () => {
      const reply = await cartOf(user);
      return reply.body.items[0]?.price === 420 ? reply.body : false;
    });
    expect(cart.total).toBe(1_260);
  });

  it('refuses what it cannot hold: 404 for an unknown sku, 400 for a quantity outside 1–100, 401 without a token', async () => {
    const user = await registerUser('cart-bad');
    const sku = await createItem(10, 100);
    const unknown = await put(user, unique('NOPE'), 1);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, error: 'Not Found', message: expect.stringMatching(/No item with sku/) });
    expect((await put(user, 'not a sku!', 1)).status).toBe(404);
    for (const quantity of [0, 101, -1, 1.5, '3', null, undefined]) {
      const reply = await put(user, sku, quantity);
      expect({ quantity, status: reply.status }).toEqual({ quantity, status: 400 });
      expect(reply.body.message).toMatch(/quantity must be a whole number from 1 to 100/);
    }
    const extraField = await call('PUT', `/v1/me/cart/items/${sku}`, { token: user.token, body: { quantity: 1, price: 1 } });
    expect(extraField.status).toBe(400);
    expect((await call('GET', '/v1/me/cart')).status).toBe(401);
    expect((await call('PUT', `/v1/me/cart/items/${sku}`, { body: { quantity: 1 } })).status).toBe(401);
    expect((await call('POST', '/v1/me/cart/checkout', { body: {} })).status).toBe(401);
    expect((await cartOf(user)).body.items).toEqual([]);
  });

  it('answers hostile bodies, paths and keys with a 4xx, never a 5xx', async () => {
    const user = await registerUser('cart-hostile');
    const sku = await createItem(5, 100);
    const bodies = [
      '{',
      '[]',
      '"quantity"',
      'null',
      '{"quantity":1e309}',
      '{"quantity":9007199254740993}',
      '{"quantity":{"$gt":0}}',
      '{"__proto__":{"quantity":1}}',
      '{"constructor":{"prototype":{"x":1}},"quantity":1}',
      `{"quantity":${'['.repeat(500)}${']'.repeat(500)}}`,
      '{"expectedTotal":1e400}',
      '{"expectedTotal":[1]}',
    ];
    const problems: string[] = [];
    const send = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`${appUrl('api')}${path}`, {
        method,
        headers: { authorization: `Bearer ${user.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body,
      });
      if (response.status >= 500 || response.status < 200) problems.push(`${method} ${path} ${body?.slice(0, 40) ?? ''} → ${response.status}`);
      return response.status;
    };
    for (const body of bodies) {
      await send('PUT', `/v1/me/cart/items/${sku}`, body);
      await send('POST', '/v1/me/cart/checkout', body);
    }
    for (const path of [`/v1/me/cart/items/${'A'.repeat(65)}`, '/v1/me/cart/items/%00', '/v1/me/cart/items/%F0%9F%98%80', '/v1/me/cart/items/..%2F..']) {
      await send('PUT', path, '{"quantity":1}');
      await send('DELETE', path);
    }
    // Not an Idempotency-Key (1–255 printable ASCII without spaces): 400, before the cart is even read.
    for (const key of ['k'.repeat(256), 'with space', 'tab\there'])
      expect(await send('POST', '/v1/me/cart/checkout', '{}', { 'idempotency-key': key })).toBe(400);
    expect(problems).toEqual([]);
    expect((await cartOf(user)).status).toBe(200);
  });
});

describe('checkout (e2e, checked with shop over gRPC)', () => {
  it('shop’s gRPC CheckLines answers each line, and refuses a request that breaks its contract with INVALID_ARGUMENT', async () => {
    const client = new ClientGrpcProxy(inventoryGrpcOptions(`127.0.0.1:${E2E_SHOP_GRPC_PORT}`));
    const stub = client.getService<{ checkLines(request: unknown, options: { deadline: number }): Observable<any> }>(InventoryGrpc.service);
    const call = (request: unknown) => firstValueFrom(stub.checkLines(request, { deadline: Date.now() + 5_000 }));
    try {
      const sku = await createItem(4, 120);
      const missing = unique('NOPE');
      expect(
        await call({
          lines: [
            { sku, quantity: 4, expectedUnitPrice: 120 },
            { sku: missing, quantity: 1, expectedUnitPrice: 1 },
          ],
        }),
      ).toEqual({
        lines: [
          { sku, ok: true, reason: '', available: 4, price: 120 },
          { sku: missing, ok: false, reason: 'UNKNOWN_SKU', available: 0, price: 0 },
        ],
      });
      for (const bad of [{ lines: [{ sku, quantity: 0, expectedUnitPrice: 1 }] }, { lines: [{ sku: 'no spaces', quantity: 1, expectedUnitPrice: 1 }] }]) {
        await expect(call(bad)).rejects.toMatchObject({ code: 3, details: expect.stringMatching(/invalid CheckLinesRequest/) });
      }
      const tooMany = Array.from({ length: 51 }, (_, i) => ({ sku: `S-${i}`, quantity: 1, expectedUnitPrice: 1 }));
      await expect(call({ lines: tooMany })).rejects.toMatchObject({ code: 3 });
    } finally {
      client.close();
    }
  });

  it('an empty cart is a 400', async () => {
    const user = await registerUser('checkout-empty');
    const reply = await checkout(user);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ statusCode: 400, code: 'CART.EMPTY', message: expect.stringMatching(/cart is empty/) });
    // Without a body at all, too.
    const bare = await call('POST', '/v1/me/cart/checkout', { token: user.token });
    expect(bare.status).toBe(400);
    expect((await checkout(user, { expectedTotal: -1 })).status).toBe(400);
    expect((await checkout(user, { expectedTotal: 'ten' })).status).toBe(400);
  });

  it('a wrong expectedTotal is a 409 listing every line at its current price, and nothing is bought', async () => {
    const user = await registerUser('checkout-total');
    await credit(user.id, 10_000);
    const [a, b] = [await createItem(10, 200), await createItem(10, 50)];
    await put(user, a, 2);
    await put(user, b, 4);
    const reply = await checkout(user, { expectedTotal: 599 });
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({ statusCode: 409, error: 'Conflict', code: 'CART.CHECK_FAILED', message: expect.stringMatching(/600/) });
    expect(reply.body.details).toEqual(
      expect.arrayContaining([
        { sku: a, reason: 'PRICE_CHANGED', available: 10, price: 200 },
        { sku: b, reason: 'PRICE_CHANGED', available: 10, price: 50 },
      ]),
    );
    expect(reply.body.details).toHaveLength(2);
    expect(await balanceOf(user)).toBe(10_000);
    expect((await call('GET', '/v1/purchases', { token: user.token })).body.items).toEqual([]);
    expect((await cartOf(user)).body.items).toHaveLength(2);
    expect([await itemQuantity(a), await itemQuantity(b)]).toEqual([10, 10]);
  });

  it('a line the shop cannot supply is a 409 naming it, with what is available, and nothing is bought', async () => {
    const user = await registerUser('checkout-stock');
    await credit(user.id, 10_000);
    const [scarce, plenty] = [await createItem(1, 300), await createItem(10, 100)];
    await put(user, scarce, 3);
    await put(user, plenty, 1);
    const reply = await checkout(user, { expectedTotal: 1_000 });
    expect(reply.status).toBe(409);
    expect(reply.body.details).toEqual([{ sku: scarce, reason: 'INSUFFICIENT_STOCK', available: 1, price: 300 }]);
    expect(await balanceOf(user)).toBe(10_000);
    expect((await call('GET', '/v1/purchases', { token: user.token })).body.items).toEqual([]);
    expect(await itemQuantity(scarce)).toBe(1);
    expect((await cartOf(user)).body.items).toHaveLength(2);
  });

  withPlaceLines(
    'an accepted cart becomes one purchase of every line: COMPLETED, paid once, stock taken per line, the cart emptied; a repeat with its key buys nothing more',
    async () => {
      const user = await registerUser('checkout-ok');
      await credit(user.id, 10_000);
      const [a, b] = [await createItem(10, 250), await createItem(5, 40)];
      await put(user, a, 2);
      await put(user, b, 5);
      const key = unique('cart-key');
      const reply = await checkout(user, { expectedTotal: 700 }, key);
      expect(reply.status).toBe(202);
      expect(reply.body).toEqual({ purchaseId: expect.any(String), status: 'PENDING' });
      expect(reply.headers.get('location')).toBe(`/v1/purchases/${reply.body.purchaseId}`);
      expect((await cartOf(user)).body).toEqual({ items: [], total: 0, updatedAt: null, expiresAt: null });

      const again = await checkout(user, { expectedTotal: 700 }, key);
      expect(again.status).toBe(202);
      expect(again.body.purchaseId).toBe(reply.body.purchaseId);

      const [purchase] = [...(await waitTerminal(user, [reply.body.purchaseId])).values()];
      expect(purchase).toMatchObject({ purchaseId: reply.body.purchaseId, status: 'COMPLETED', amount: 700 });
      expect(purchase.lines).toEqual(
        expect.arrayContaining([
          { sku: a, quantity: 2, unitPrice: 250, amount: 500 },
          { sku: b, quantity: 5, unitPrice: 40, amount: 200 },
        ]),
      );
      expect(await balanceOf(user)).toBe(10_000 - 700);
      expect([await itemQuantity(a), await itemQuantity(b)]).toEqual([8, 0]);
      expect((await call('GET', '/v1/purchases', { token: user.token })).body.items).toHaveLength(1);
    },
  );
});
