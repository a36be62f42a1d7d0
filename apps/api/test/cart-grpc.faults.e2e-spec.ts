import { appUrl, E2E_PORT_BASE, E2E_SHOP_GRPC_PORT, everyAppReady, killApp, startApp, startExtraApp, waitFor, waitReady } from '@app/testing';
import { balanceOf, call, createItem, credit, itemQuantity, registerUser } from './support/commerce';

jest.setTimeout(180_000);

/** The test api's SHOP_GRPC_DEADLINE_MS (its default). */
const DEADLINE_MS = 2_000;

const readiness = (url: string) =>
  fetch(`${url}/health/ready`).then(
    async (r) => ({ status: r.status, body: (await r.json()) as { details?: Record<string, { status: string }> } }),
    () => ({ status: 0, body: {} as { details?: Record<string, { status: string }> } }),
  );

describe('checkout while shop does not answer gRPC (e2e, faults)', () => {
  afterAll(async () => {
    await everyAppReady();
  }, 300_000);

  it('shop reports its gRPC server in its readiness', async () => {
    const ready = await readiness(appUrl('shop'));
    expect(ready.status).toBe(200);
    expect(ready.body.details?.grpc).toEqual(expect.objectContaining({ status: 'up' }));
  });

  it('a second shop on the same host, whose gRPC port is taken, still starts and serves, and says who serves the port', async () => {
    const second = startExtraApp('shop', E2E_PORT_BASE + 44, { SHOP_GRPC_PORT: String(E2E_SHOP_GRPC_PORT) });
    try {
      await second.ready();
      const ready = await readiness(second.url);
      expect(ready.body.details?.grpc).toEqual({ status: 'up', port: E2E_SHOP_GRPC_PORT, servedBy: 'another process' });
      expect(second.output()).toMatch(/gRPC port \d+ is in use by another process/);
    } finally {
      await second.stop();
    }
    expect((await readiness(appUrl('shop'))).status).toBe(200);
  });

  it('shop frozen (SIGSTOP): checkout is a 503 within the deadline that says nothing was bought, and nothing is; the api stays ready; after SIGCONT the cart is intact', async () => {
    // A shop of our own, so that its pid is known.
    await killApp('shop', 'SIGTERM');
    const pid = startApp('shop');
    await waitReady('shop');

    const user = await registerUser('grpc-frozen');
    await credit(user.id, 10_000);
    const [a, b] = [await createItem(10, 300), await createItem(10, 20)];
    for (const [sku, quantity] of [
      [a, 2],
      [b, 5],
    ] as const) {
      expect((await call('PUT', `/v1/me/cart/items/${sku}`, { token: user.token, body: { quantity } })).status).toBe(200);
    }

    process.kill(pid, 'SIGSTOP');
    let answers: { status: number; ms: number; body: any }[];
    let apiReady: number;
    try {
      // Twice: with the catalog still cached (the gRPC deadline answers) and after its cache has lapsed (the price read is bounded the same way).
      answers = [];
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        const reply = await call('POST', '/v1/me/cart/checkout', {
          token: user.token,
          body: { expectedTotal: 700 },
          headers: { 'idempotency-key': `frozen-${pid}-${i}` },
        });
        answers.push({ status: reply.status, ms: Date.now() - started, body: reply.body });
      }
      apiReady = (await readiness(appUrl('api'))).status;
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    for (const answer of answers) {
      expect(answer).toMatchObject({
        status: 503,
        body: { statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/nothing was bought/) },
      });
      // The deadline, plus at most one more for the price read before it, plus the api's own time.
      expect(answer.ms).toBeLessThan(2 * DEADLINE_MS + 1_500);
    }
    expect(answers.some((answer) => answer.body.code === 'CHECKOUT.SHOP_TIMEOUT')).toBe(true);
    // The api does not depend on shop's gRPC to serve everything else.
    expect(apiReady).toBe(200);

    await waitReady('shop');
    expect(await balanceOf(user)).toBe(10_000);
    expect((await call('GET', '/v1/purchases', { token: user.token })).body.items).toEqual([]);
    expect([await itemQuantity(a), await itemQuantity(b)]).toEqual([10, 10]);
    const cart = await call('GET', '/v1/me/cart', { token: user.token });
    expect(cart.body).toMatchObject({ total: 700 });
    expect(cart.body.items).toHaveLength(2);
  });

  it('shop stopped: checkout is a 503 at once or within the deadline, nothing bought; shop back, the same cart checks again', async () => {
    const user = await registerUser('grpc-down');
    await credit(user.id, 10_000);
    const sku = await createItem(1, 500);
    expect((await call('PUT', `/v1/me/cart/items/${sku}`, { token: user.token, body: { quantity: 2 } })).status).toBe(200);

    await killApp('shop', 'SIGTERM');
    let answer: { status: number; ms: number; body: any };
    try {
      const started = Date.now();
      const reply = await call('POST', '/v1/me/cart/checkout', { token: user.token, body: {} });
      answer = { status: reply.status, ms: Date.now() - started, body: reply.body };
    } finally {
      startApp('shop');
      await waitReady('shop');
    }
    expect(answer).toMatchObject({ status: 503, body: { message: expect.stringMatching(/nothing was bought/) } });
    expect(answer.ms).toBeLessThan(2 * DEADLINE_MS + 1_500);
    expect(await balanceOf(user)).toBe(10_000);
    expect((await call('GET', '/v1/purchases', { token: user.token })).body.items).toEqual([]);

    // Shop answers again (a fresh gRPC connection): the check runs, and says what is wrong with this cart.
    const again = await waitFor('a checkout answered by shop', async () => {
      const reply = await call('POST', '/v1/me/cart/checkout', { token: user.token, body: {} });
      return reply.status === 503 ? false : reply;
    });
    expect(again.status).toBe(409);
    expect(again.body.details).toEqual([{ sku, reason: 'INSUFFICIENT_STOCK', available: 1, price: 500 }]);
  });
});
