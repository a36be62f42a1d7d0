import { balanceOf, buy, call, createItem, credit, itemQuantity, registerUser, TestUser, unique, waitTerminal } from './support/commerce';

jest.setTimeout(180_000);

const PRICE = 250;

async function buyers(count: number, creditEach: number): Promise<TestUser[]> {
  const users = await Promise.all(Array.from({ length: count }, () => registerUser('buyer')));
  await Promise.all(users.map((u) => credit(u.id, creditEach)));
  return users;
}

/** Every purchase of every buyer terminal; returns them all, grouped by buyer. */
async function settle(orders: { user: TestUser; purchaseId: string }[]): Promise<Map<TestUser, any[]>> {
  const byUser = new Map<TestUser, string[]>();
  for (const o of orders) byUser.set(o.user, [...(byUser.get(o.user) ?? []), o.purchaseId]);
  const result = new Map<TestUser, any[]>();
  await Promise.all([...byUser].map(async ([user, ids]) => result.set(user, [...(await waitTerminal(user, ids, 120_000)).values()])));
  return result;
}

describe('purchases (e2e, the saga between account and shop)', () => {
  it('30 concurrent purchases of 1 unit by several users, 10 left: exactly 10 COMPLETED, money and stock conserved', async () => {
    const users = await buyers(6, 10_000);
    const sku = await createItem(10, PRICE);
    const orders = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const user = users[i % users.length];
        const reply = await buy(user, sku);
        expect(reply.status).toBe(202);
        expect(reply.body).toEqual({ purchaseId: expect.any(String), status: 'PENDING' });
        expect(reply.headers.get('location')).toBe(`/v1/purchases/${reply.body.purchaseId}`);
        return { user, purchaseId: reply.body.purchaseId as string };
      }),
    );
    const settled = await settle(orders);
    const all = [...settled.values()].flat();
    expect(all.filter((p) => p.status === 'COMPLETED')).toHaveLength(10);
    expect(all.filter((p) => p.status === 'CANCELLED')).toHaveLength(20);
    for (const p of all.filter((p) => p.status === 'CANCELLED')) expect(p.reason).toEqual(expect.any(String));
    for (const [user, purchases] of settled) {
      const completed = purchases.filter((p) => p.status === 'COMPLETED').reduce((sum, p) => sum + p.amount, 0);
      expect(await balanceOf(user)).toBe(10_000 - completed);
    }
    expect(await itemQuantity(sku)).toBe(0);
  });

  it('the last unit, 50 buyers: exactly one COMPLETED', async () => {
    const users = await buyers(50, 1_000);
    const sku = await createItem(1, PRICE);
    const orders = await Promise.all(users.map(async (user) => ({ user, purchaseId: (await buy(user, sku)).body.purchaseId as string })));
    const all = [...(await settle(orders)).values()].flat();
    expect(all.filter((p) => p.status === 'COMPLETED')).toHaveLength(1);
    expect(all.filter((p) => p.status === 'CANCELLED')).toHaveLength(49);
    const balances = await Promise.all(users.map(balanceOf));
    expect(balances.filter((b) => b === 1_000 - PRICE)).toHaveLength(1);
    expect(balances.filter((b) => b === 1_000)).toHaveLength(49);
    expect(await itemQuantity(sku)).toBe(0);
  });

  it('insufficient balance: REJECTED with the reason, nothing changed', async () => {
    const [user] = await buyers(1, 100);
    const sku = await createItem(5, PRICE);
    const reply = await buy(user, sku, 1);
    expect(reply.status).toBe(202);
    const [p] = [...(await waitTerminal(user, [reply.body.purchaseId])).values()];
    expect(p).toMatchObject({ purchaseId: reply.body.purchaseId, sku, quantity: 1, status: 'REJECTED', reason: expect.stringMatching(/insufficient balance/) });
    expect(await balanceOf(user)).toBe(100);
    expect(await itemQuantity(sku)).toBe(5);
  });

  it('an unknown sku: REJECTED with the reason', async () => {
    const [user] = await buyers(1, 1_000);
    const reply = await buy(user, unique('NOPE'));
    expect(reply.status).toBe(202);
    const [p] = [...(await waitTerminal(user, [reply.body.purchaseId])).values()];
    expect(p).toMatchObject({ status: 'REJECTED', reason: expect.stringMatching(/unknown sku/) });
    expect(await balanceOf(user)).toBe(1_000);
  });

  it('a repeated Idempotency-Key: one purchase, paid once', async () => {
    const [user] = await buyers(1, 10_000);
    const sku = await createItem(10, PRICE);
    const key = unique('key');
    const replies = await Promise.all([1, 2, 3, 4, 5].map(() => buy(user, sku, 2, key)));
    expect(replies.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    const ids = new Set(replies.map((r) => r.body.purchaseId));
    expect(ids.size).toBe(1);
    const [p] = [...(await waitTerminal(user, [...ids])).values()];
    expect(p).toMatchObject({ status: 'COMPLETED', amount: 2 * PRICE, quantity: 2 });
    const repeat = await buy(user, sku, 2, key);
    expect(repeat.body).toEqual({ purchaseId: p.purchaseId, status: 'COMPLETED' });
    expect(await balanceOf(user)).toBe(10_000 - 2 * PRICE);
    expect(await itemQuantity(sku)).toBe(8);
    const list = await call('GET', '/v1/purchases', { token: user.token });
    expect(list.body.items).toHaveLength(1);
  });

  it('shows a purchase to its buyer only, and lists them newest first, page by page', async () => {
    const [owner, other] = await buyers(2, 10_000);
    const sku = await createItem(10, PRICE);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await buy(owner, sku)).body.purchaseId);
    await waitTerminal(owner, ids);

    const mine = await call('GET', `/v1/purchases/${ids[0]}`, { token: owner.token });
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({
      purchaseId: ids[0],
      sku,
      quantity: 1,
      amount: PRICE,
      lines: [{ sku, quantity: 1, unitPrice: PRICE, amount: PRICE }],
      status: 'COMPLETED',
      createdAt: expect.stringMatching(/Z$/),
      updatedAt: expect.stringMatching(/Z$/),
    });
    const theirs = await call('GET', `/v1/purchases/${ids[0]}`, { token: other.token });
    expect(theirs.status).toBe(404);
    expect(theirs.body).toMatchObject({ statusCode: 404, error: 'Not Found' });

    const first = await call('GET', '/v1/purchases?limit=2', { token: owner.token });
    expect(first.body.items.map((p: any) => p.purchaseId)).toEqual([ids[2], ids[1]]);
    const second = await call('GET', `/v1/purchases?limit=2&pageToken=${first.body.nextPageToken}`, { token: owner.token });
    expect(second.body).toEqual({ items: [expect.objectContaining({ purchaseId: ids[0] })], nextPageToken: null });
    expect((await call('GET', '/v1/purchases?limit=0', { token: owner.token })).status).toBe(400);
    expect((await call('GET', '/v1/purchases?pageToken=%%%', { token: owner.token })).status).toBe(400);
    expect((await call('POST', '/v1/purchases', { token: owner.token, body: { sku, quantity: 101 } })).status).toBe(400);
  });
});
