import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { MailerRpcQueues, PriceChanged, UnwatchSkuRequest, WatchlistChanged, WatchSkuRequest } from '@app/contracts';
import { waitFor } from '@app/testing';
import { Broker, mailsTo, publishPriceChanges, uniqueAddress } from './mail-test-support';

describe('mailer: price drops reach the watchers', () => {
  let broker: Broker;

  beforeAll(async () => {
    broker = await Broker.connect();
  });

  afterAll(async () => {
    await broker.close();
  });

  function event(sku: string, version: number, oldPrice: number, newPrice: number): PriceChanged {
    return { sku, name: 'Espresso machine', oldPrice, newPrice, version, changedAt: new Date().toISOString() };
  }

  async function watch(sku: string, name: string): Promise<{ userId: string; email: string }> {
    const watcher = { userId: randomUUID(), email: uniqueAddress(name), name, sku };
    const answer = await broker.rpc<WatchlistChanged>(MailerRpcQueues.Watch, watcher satisfies WatchSkuRequest);
    expect(answer).toEqual({ sku, watching: true });
    return watcher;
  }

  it('mails every watcher exactly once per drop; a rise, a replay and a stale event mail nothing', async () => {
    const sku = `ESP-${randomUUID().slice(0, 8)}`;
    const ann = await watch(sku, 'ann');
    const bo = await watch(sku, 'bo');
    const gone = await watch(sku, 'gone');
    await broker.rpc<WatchlistChanged>(MailerRpcQueues.Unwatch, { userId: gone.userId, sku } satisfies UnwatchSkuRequest);
    // Watching twice is still one watcher.
    await broker.rpc(MailerRpcQueues.Watch, { userId: bo.userId, email: bo.email, name: 'bo', sku });

    // v1 drop, v1 replayed, v2 rise, v1 again (stale), v3 drop: per watcher exactly the v1 and v3 mails.
    await publishPriceChanges([event(sku, 1, 50000, 45000), event(sku, 1, 50000, 45000), event(sku, 2, 45000, 47000)]);
    await publishPriceChanges([event(sku, 1, 50000, 45000)]);
    await publishPriceChanges([event(sku, 3, 47000, 39900)]);

    // One sku stays on one partition, in order: once v3's mails are in, the events before it were handled.
    for (const watcher of [ann, bo]) {
      const mails = await waitFor(
        `both price-drop mails for ${watcher.email}`,
        async () => {
          const got = await mailsTo(watcher.email);
          return got.some((m) => m.headers['x-mail-id'] === `price-drop:${sku}:3:${watcher.userId}`) ? got : false;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      expect(mails.map((m) => m.headers['x-mail-id']).sort()).toEqual([`price-drop:${sku}:1:${watcher.userId}`, `price-drop:${sku}:3:${watcher.userId}`]);
      const v3 = mails.find((m) => m.headers['x-mail-id'].endsWith(`:3:${watcher.userId}`))!;
      expect(v3.subject).toBe('Price drop: Espresso machine is now $399.00');
      expect(v3.text).toContain('from $470.00 to $399.00');
    }
    expect(await mailsTo(gone.email)).toHaveLength(0);
  }, 90_000);

  it('answers a watch request with an invalid sku with a clear error', async () => {
    await expect(broker.rpc(MailerRpcQueues.Watch, { userId: 'u', email: uniqueAddress('x'), sku: 'no spaces allowed' })).rejects.toThrow(/sku must match/);
  });
});
