import { everyAppReady, killApp, startApp, waitFor } from '@app/testing';
import { balanceOf, call, createItem, credit, itemQuantity, registerUser, TestUser, unique } from './support/commerce';
import { allPurchases, MAILDEV_URL } from './support/saga-faults';

jest.setTimeout(600_000);

const CREDIT = 1_000_000;
const TERMINAL = new Set(['COMPLETED', 'REJECTED', 'CANCELLED']);

interface Line {
  sku: string;
  quantity: number;
}

async function fillCart(user: TestUser, lines: Line[], deadline: number): Promise<void> {
  for (const line of lines) {
    for (;;) {
      const reply = await call('PUT', `/v1/me/cart/items/${line.sku}`, { token: user.token, body: { quantity: line.quantity } }).catch(() => undefined);
      if (reply?.status === 200) break;
      if (reply && reply.status < 500) throw new Error(`PUT cart item: ${reply.status} ${JSON.stringify(reply.body)}`);
      if (Date.now() > deadline) throw new Error('the cart could never be filled');
      await new Promise((resolve) => setTimeout(resolve, 250)); // a client's retry pause, not a wait for an effect
    }
  }
}

/**
 * A client checking out its cart as a real one would: one Idempotency-Key for the checkout, retried
 * while the system answers 5xx or not at all. Resolves to the purchase id, or undefined on a 409.
 */
async function checkoutUntilAnswered(user: TestUser, deadline: number): Promise<string | undefined> {
  const key = unique('checkout');
  for (;;) {
    const reply = await call('POST', '/v1/me/cart/checkout', { token: user.token, body: {}, headers: { 'idempotency-key': key } }).catch(() => undefined);
    if (reply?.status === 202) return reply.body.purchaseId;
    if (reply?.status === 409) return undefined;
    if (reply && reply.status < 500) throw new Error(`checkout: ${reply.status} ${JSON.stringify(reply.body)}`);
    if (Date.now() > deadline) throw new Error('a checkout was never answered');
    await new Promise((resolve) => setTimeout(resolve, 250)); // a client's retry pause, not a wait for an effect
  }
}

/** Every purchase terminal; then each balance and each sku's units add up exactly, line by line. */
async function expectConserved(users: TestUser[], initial: Map<string, number>, accepted: string[], timeoutMs: number) {
  const lists = await waitFor(
    'every cart purchase to reach a terminal status',
    async () => {
      const found = await Promise.all(users.map(allPurchases));
      if (found.some((l) => l === false)) return false;
      return (found as any[][]).flat().every((p) => TERMINAL.has(p.status)) ? (found as any[][]) : false;
    },
    { timeoutMs, intervalMs: 1000 },
  );
  const all = lists.flat();
  const ids = new Set(all.map((p) => p.purchaseId));
  for (const id of accepted) expect(ids.has(id)).toBe(true);
  for (let i = 0; i < users.length; i++) {
    const paid = lists[i].filter((p) => p.status === 'COMPLETED').reduce((sum, p) => sum + p.amount, 0);
    expect(await balanceOf(users[i])).toBe(CREDIT - paid);
  }
  for (const p of all) expect(p.amount).toBe(p.lines.reduce((sum: number, line: any) => sum + line.amount, 0));
  for (const [sku, quantity] of initial) {
    const sold = all
      .filter((p) => p.status === 'COMPLETED')
      .flatMap((p) => p.lines)
      .filter((line) => line.sku === sku)
      .reduce((sum, line) => sum + line.quantity, 0);
    const left = await itemQuantity(sku);
    expect(left).toBeGreaterThanOrEqual(0);
    expect({ sku, total: left + sold }).toEqual({ sku, total: quantity });
  }
  return all;
}

describe('cart purchases under races and crashes (e2e, faults)', () => {
  afterAll(async () => {
    await everyAppReady(); // starts again an app a test left dead
  }, 300_000);

  it('two buyers checking out the last units: never both paid, and nothing else is bought for the one left out', async () => {
    const scarce = await createItem(3, 700);
    const plenty = await createItem(100, 50);
    const users = await Promise.all([registerUser('race'), registerUser('race')]);
    await Promise.all(users.map((u) => credit(u.id, CREDIT)));
    const deadline = Date.now() + 60_000;
    const lines = [
      { sku: plenty, quantity: 2 },
      { sku: scarce, quantity: 3 },
    ];
    await Promise.all(users.map((u) => fillCart(u, lines, deadline)));
    const ids = await Promise.all(users.map((u) => checkoutUntilAnswered(u, deadline)));
    const accepted = ids.filter((id): id is string => id !== undefined);
    const all = await expectConserved(
      users,
      new Map([
        [scarce, 3],
        [plenty, 100],
      ]),
      accepted,
      60_000,
    );
    const completed = all.filter((p) => p.status === 'COMPLETED');
    expect(completed).toHaveLength(1);
    expect(completed[0].lines).toEqual(
      expect.arrayContaining([
        { sku: plenty, quantity: 2, unitPrice: 50, amount: 100 },
        { sku: scarce, quantity: 3, unitPrice: 700, amount: 2100 },
      ]),
    );
    // The other is refused at checkout (409) or CANCELLED by the saga, naming the scarce sku.
    for (const p of all.filter((q) => q.status !== 'COMPLETED')) {
      expect(p.status).toBe('CANCELLED');
      expect(p.reason).toContain(scarce);
    }
    expect(await itemQuantity(plenty)).toBe(98);

    // One confirmation, listing every line of the cart.
    const mail = await waitFor(
      'the confirmation mail',
      async () => {
        const mails = (await (await fetch(`${MAILDEV_URL}/email`)).json()) as { headers: Record<string, string>; text: string }[];
        const ours = mails.filter((m) => m.headers['x-mail-id'] === `purchase-completed:${completed[0].purchaseId}`);
        return ours.length > 0 ? ours : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(mail).toHaveLength(1);
    expect(mail[0].text).toContain(`2 × ${plenty}`);
    expect(mail[0].text).toContain(`3 × ${scarce}`);
  });

  it('kill -9 of account, then of shop, during 60 cart checkouts: every purchase terminal, money and every line stock exact', async () => {
    const scarce = await createItem(40, 300);
    const plenty = [await createItem(500, 120), await createItem(500, 45)];
    const initial = new Map([
      [scarce, 40],
      [plenty[0], 500],
      [plenty[1], 500],
    ]);
    const users = await Promise.all(Array.from({ length: 10 }, () => registerUser('cart-fault')));
    await Promise.all(users.map((u) => credit(u.id, CREDIT)));
    const deadline = Date.now() + 300_000;
    const accepted: string[] = [];
    const faults: Promise<void>[] = [];
    const onAccepted = (id: string | undefined) => {
      if (id) accepted.push(id);
      if (accepted.length === 15 && faults.length === 0) faults.push(killApp('account', 'SIGKILL').then(() => void startApp('account')));
      if (accepted.length === 35 && faults.length === 1) faults.push(killApp('shop', 'SIGKILL').then(() => void startApp('shop')));
    };
    // Each buyer checks out six carts in turn (one cart per user): 2 + 1 + 1 units a cart.
    await Promise.all(
      users.map(async (user) => {
        for (let round = 0; round < 6; round++) {
          await fillCart(
            user,
            [
              { sku: plenty[0], quantity: 2 },
              { sku: scarce, quantity: 1 },
              { sku: plenty[1], quantity: 1 },
            ],
            deadline,
          );
          onAccepted(await checkoutUntilAnswered(user, deadline));
        }
      }),
    );
    await Promise.all(faults);
    expect(faults).toHaveLength(2);
    await everyAppReady();
    const all = await expectConserved(users, initial, accepted, 180_000);
    expect(all.length).toBe(accepted.length);
    expect(all.every((p) => p.lines.length === 3)).toBe(true);
    const sold = all.filter((p) => p.status === 'COMPLETED').length;
    expect(sold).toBeLessThanOrEqual(40);
    process.stdout.write(`cart kill -9: ${accepted.length} cart purchases, ${sold} COMPLETED\n`);
  });
});
