import { appUrl, everyAppReady, infra, itWhenControlledHere, killApp, startApp, waitFor } from '@app/testing';
import { balanceOf, buy, createItem, credit, itemQuantity, registerUser, TestUser, unique } from './support/commerce';
import { allPurchases } from './support/saga-faults';

jest.setTimeout(600_000);

const PRICE = 100;
const CREDIT = 100_000;
const TERMINAL = new Set(['COMPLETED', 'REJECTED', 'CANCELLED']);

/** A client that keeps its Idempotency-Key and retries until the purchase is accepted, as a real one would. */
async function buyUntilAccepted(user: TestUser, sku: string, deadline: number): Promise<string> {
  const key = unique('k');
  for (;;) {
    const reply = await buy(user, sku, 1, key).catch(() => undefined);
    if (reply?.status === 202) return reply.body.purchaseId;
    if (reply && reply.status !== 503 && reply.status !== 502) throw new Error(`POST /v1/purchases: ${reply.status} ${JSON.stringify(reply.body)}`);
    if (Date.now() > deadline) throw new Error('a purchase was never accepted');
    await new Promise((resolve) => setTimeout(resolve, 250)); // a client's retry pause, not a wait for an effect
  }
}

/** Waits for every purchase of every buyer to be terminal, then checks that no money or unit appeared or vanished. */
async function expectConserved(users: TestUser[], sku: string, initialQuantity: number, accepted: string[], timeoutMs: number) {
  const started = Date.now();
  const purchases = await waitFor(
    'every purchase to reach a terminal status',
    async () => {
      const lists = await Promise.all(users.map(allPurchases));
      if (lists.some((l) => l === false)) return false;
      const all = (lists as any[][]).flat();
      return all.every((p) => TERMINAL.has(p.status)) ? (lists as any[][]) : false;
    },
    { timeoutMs, intervalMs: 1000 },
  );
  const all = purchases.flat();
  const byId = new Set(all.map((p) => p.purchaseId));
  for (const id of accepted) expect(byId.has(id)).toBe(true);
  for (let i = 0; i < users.length; i++) {
    const completed = purchases[i].filter((p) => p.status === 'COMPLETED').reduce((sum, p) => sum + p.amount, 0);
    expect(await balanceOf(users[i])).toBe(CREDIT - completed);
  }
  const sold = all.filter((p) => p.status === 'COMPLETED').reduce((sum, p) => sum + p.quantity, 0);
  const left = await itemQuantity(sku);
  expect(left).toBeGreaterThanOrEqual(0);
  expect(left + sold).toBe(initialQuantity);
  return { all, settledInMs: Date.now() - started, sold };
}

async function setup(userCount: number, quantity: number): Promise<{ users: TestUser[]; sku: string }> {
  const users = await Promise.all(Array.from({ length: userCount }, () => registerUser('fault')));
  await Promise.all(users.map((u) => credit(u.id, CREDIT)));
  return { users, sku: await createItem(quantity, PRICE) };
}

// The broker restart stops RabbitMQ: only one this checkout started (else skipped, saying why).
const itRestartingRabbitmq = itWhenControlledHere('rabbitmq', 'RabbitMQ');

describe('purchases survive crashes and a broker restart (e2e, faults)', () => {
  afterAll(async () => {
    infra('up', 'rabbitmq'); // leaves a broker it did not start alone
    await everyAppReady(); // starts again an app a test left dead
  }, 300_000);

  it('kill -9 of account, then of shop, during 200 concurrent purchases: every purchase terminal, money and stock conserved', async () => {
    const { users, sku } = await setup(10, 120);
    const deadline = Date.now() + 240_000;
    const accepted: string[] = [];
    let killedAccount = false;
    let killedShop = false;
    const faults: Promise<void>[] = [];
    const onAccepted = (id: string) => {
      accepted.push(id);
      if (accepted.length === 40 && !killedAccount) {
        killedAccount = true;
        faults.push(killApp('account', 'SIGKILL').then(() => void startApp('account')));
      }
      if (accepted.length === 120 && !killedShop) {
        killedShop = true;
        faults.push(killApp('shop', 'SIGKILL').then(() => void startApp('shop')));
      }
    };
    await Promise.all(Array.from({ length: 200 }, (_, i) => buyUntilAccepted(users[i % users.length], sku, deadline).then(onAccepted)));
    await Promise.all(faults);
    expect(killedAccount && killedShop).toBe(true);
    await everyAppReady();
    const { all, settledInMs, sold } = await expectConserved(users, sku, 120, accepted, 180_000);
    expect(all).toHaveLength(200);
    expect(sold).toBeLessThanOrEqual(120);
    process.stdout.write(`kill -9: 200 purchases, ${sold} COMPLETED, all terminal ${settledInMs} ms after the last was accepted\n`);
  });

  itRestartingRabbitmq('RabbitMQ restarted (infra down, infra up) during purchases: every purchase terminal, money and stock conserved', async () => {
    const { users, sku } = await setup(5, 60);
    const deadline = Date.now() + 240_000;
    const accepted: string[] = [];
    let stopped: Promise<void> | undefined;
    const onAccepted = (id: string) => {
      accepted.push(id);
      if (accepted.length === 30 && !stopped) {
        stopped = (async () => {
          infra('down', 'rabbitmq');
          await waitFor('api to see RabbitMQ down', async () => (await fetch(`${appUrl('api')}/health/ready`)).status === 503, { timeoutMs: 30_000 });
          infra('up', 'rabbitmq');
        })();
      }
    };
    await Promise.all(Array.from({ length: 100 }, (_, i) => buyUntilAccepted(users[i % users.length], sku, deadline).then(onAccepted)));
    await stopped;
    await everyAppReady();
    const { all, settledInMs, sold } = await expectConserved(users, sku, 60, accepted, 180_000);
    expect(all).toHaveLength(100);
    process.stdout.write(`RabbitMQ restart: 100 purchases, ${sold} COMPLETED, all terminal ${settledInMs} ms after the last was accepted\n`);
  });
});
