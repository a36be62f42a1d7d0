import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxy, ClientProxyFactory, MessagePattern, MicroserviceOptions, Transport } from '@nestjs/microservices';
import { Client, types } from 'cassandra-driver';
import { randomUUID } from 'node:crypto';
import { firstValueFrom } from 'rxjs';

/**
 * The naive peer: the same purchase flow built the way Nest's docs and a newcomer would build it.
 * Two Nest microservices ("account", "shop") on the RMQ transport with its default settings
 * (auto-ack, default prefetch, non-persistent messages, no publisher confirms), calling each other
 * with `ClientProxy.send` and awaiting the answer:
 *   client ─send('purchase')─▶ account: read the balance, check it, write balance − amount
 *   (read-modify-write), record the purchase PENDING ─send('reserve')─▶ shop: read the quantity,
 *   check it, write quantity − n, record the reservation ─▶ account: COMPLETED, or refund
 *   (read-modify-write) and CANCELLED ─▶ the client gets the terminal status in the reply.
 * Same Cassandra, same number of buyers and one sku as the system run; its own keyspace.
 * It is not safe (concurrent read-modify-writes lose updates, a crash between steps loses money
 * or stock, redeliveries are not deduplicated): that is what makes it naive.
 */
export async function nestPeer(url: string, options: { contactPoints: string[]; localDataCenter: string; buyers: number; stock: number; credit: number }) {
  const run = randomUUID().slice(0, 8);
  const accountQueue = `bench.${run}.peer-account`;
  const shopQueue = `bench.${run}.peer-shop`;
  const keyspace = 'bench_saga_peer';
  const admin = new Client({ contactPoints: options.contactPoints, localDataCenter: options.localDataCenter });
  await admin.connect();
  await admin.execute(`CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
  for (const ddl of [
    'CREATE TABLE IF NOT EXISTS balances (user_id text PRIMARY KEY, balance bigint)',
    'CREATE TABLE IF NOT EXISTS purchases (purchase_id text PRIMARY KEY, user_id text, sku text, quantity int, amount bigint, status text, updated_at timestamp)',
    'CREATE TABLE IF NOT EXISTS stock (sku text PRIMARY KEY, quantity int)',
    'CREATE TABLE IF NOT EXISTS reservations (purchase_id text PRIMARY KEY, sku text, quantity int, at timestamp)',
  ]) {
    await admin.execute(ddl.replace('IF NOT EXISTS ', `IF NOT EXISTS ${keyspace}.`));
  }
  await admin.shutdown();
  const db = new Client({ contactPoints: options.contactPoints, localDataCenter: options.localDataCenter, keyspace });
  await db.connect();
  const long = (n: number) => types.Long.fromNumber(n);

  const sku = `PEER-${run}`;
  const price = 1;
  const users = Array.from({ length: options.buyers }, (_, i) => `peer-${run}-${i}`);
  await db.execute('INSERT INTO stock (sku, quantity) VALUES (?, ?)', [sku, options.stock], { prepare: true });
  await Promise.all(users.map((u) => db.execute('INSERT INTO balances (user_id, balance) VALUES (?, ?)', [u, long(options.credit)], { prepare: true })));

  const toShop = ClientProxyFactory.create({ transport: Transport.RMQ, options: { urls: [url], queue: shopQueue } });

  interface PurchaseRequest {
    purchaseId: string;
    userId: string;
    sku: string;
    quantity: number;
  }

  @Controller()
  class ShopHandlers {
    @MessagePattern('reserve')
    async reserve(data: { purchaseId: string; sku: string; quantity: number }) {
      const row = (await db.execute('SELECT quantity FROM stock WHERE sku = ?', [data.sku], { prepare: true })).first();
      if (!row || row.get('quantity') < data.quantity) return { reserved: false, reason: 'out of stock' };
      await db.execute('UPDATE stock SET quantity = ? WHERE sku = ?', [row.get('quantity') - data.quantity, data.sku], { prepare: true });
      await db.execute(
        'INSERT INTO reservations (purchase_id, sku, quantity, at) VALUES (?, ?, ?, ?)',
        [data.purchaseId, data.sku, data.quantity, new Date()],
        {
          prepare: true,
        },
      );
      return { reserved: true };
    }
  }

  async function changeBalance(userId: string, amount: number): Promise<number> {
    const balance = Number((await db.execute('SELECT balance FROM balances WHERE user_id = ?', [userId], { prepare: true })).first()?.get('balance') ?? 0);
    if (balance + amount < 0) return -1;
    await db.execute('UPDATE balances SET balance = ? WHERE user_id = ?', [long(balance + amount), userId], { prepare: true });
    return balance + amount;
  }

  async function setStatus(purchaseId: string, status: string): Promise<void> {
    await db.execute('UPDATE purchases SET status = ?, updated_at = ? WHERE purchase_id = ?', [status, new Date(), purchaseId], { prepare: true });
  }

  @Controller()
  class AccountHandlers {
    @MessagePattern('purchase')
    async purchase(data: PurchaseRequest) {
      const amount = price * data.quantity;
      await db.execute(
        'INSERT INTO purchases (purchase_id, user_id, sku, quantity, amount, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [data.purchaseId, data.userId, data.sku, data.quantity, long(amount), 'PENDING', new Date()],
        { prepare: true },
      );
      if ((await changeBalance(data.userId, -amount)) < 0) {
        await setStatus(data.purchaseId, 'REJECTED');
        return { status: 'REJECTED' };
      }
      const answer = await firstValueFrom(
        toShop.send<{ reserved: boolean }>('reserve', { purchaseId: data.purchaseId, sku: data.sku, quantity: data.quantity }),
      );
      if (answer.reserved) {
        await setStatus(data.purchaseId, 'COMPLETED');
        return { status: 'COMPLETED' };
      }
      await changeBalance(data.userId, amount);
      await setStatus(data.purchaseId, 'CANCELLED');
      return { status: 'CANCELLED' };
    }
  }

  @Module({ controllers: [ShopHandlers] })
  class ShopModule {}
  @Module({ controllers: [AccountHandlers] })
  class AccountModule {}

  const shop = await NestFactory.createMicroservice<MicroserviceOptions>(ShopModule, {
    transport: Transport.RMQ,
    options: { urls: [url], queue: shopQueue },
    logger: false,
  });
  const account = await NestFactory.createMicroservice<MicroserviceOptions>(AccountModule, {
    transport: Transport.RMQ,
    options: { urls: [url], queue: accountQueue },
    logger: false,
  });
  await shop.listen();
  await account.listen();
  const client: ClientProxy = ClientProxyFactory.create({ transport: Transport.RMQ, options: { urls: [url], queue: accountQueue } });
  await client.connect();
  await toShop.connect();

  let turn = 0;
  return {
    async once(): Promise<void> {
      const userId = users[turn++ % users.length];
      const { status } = await firstValueFrom(client.send<{ status: string }>('purchase', { purchaseId: randomUUID(), userId, sku, quantity: 1 }));
      if (status !== 'COMPLETED') throw new Error(`peer purchase ended ${status}`);
    },
    /** What the naive code got wrong under concurrency: units and cents that the lost updates created. */
    async audit(completed: number): Promise<{ stockLeft: number; stockExpected: number; balanceTotal: number; balanceExpected: number }> {
      const stockLeft = (await db.execute('SELECT quantity FROM stock WHERE sku = ?', [sku], { prepare: true })).first().get('quantity') as number;
      const balances = await Promise.all(
        users.map(async (u) => Number((await db.execute('SELECT balance FROM balances WHERE user_id = ?', [u], { prepare: true })).first().get('balance'))),
      );
      return {
        stockLeft,
        stockExpected: options.stock - completed,
        balanceTotal: balances.reduce((a, b) => a + b, 0),
        balanceExpected: options.credit * users.length - completed * price,
      };
    },
    async close() {
      await client.close();
      await toShop.close();
      await account.close();
      await shop.close();
      await db.shutdown();
    },
  };
}
