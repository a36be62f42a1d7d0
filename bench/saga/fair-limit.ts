import 'reflect-metadata';
import amqp, { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { types } from 'cassandra-driver';
import { ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { createCassandraClient } from '@app/cassandra';

/**
 * The fair limit: the least a purchase can cost with the product's guarantees and no more.
 * The saga's four hops as a raw amqplib chain with the product's queue settings (durable queues
 * declared with the arguments libs/messaging gives its saga and RPC queues, i.e. none; persistent
 * messages; publisher confirms; manual acks once the next hop's publish is confirmed; prefetch 32;
 * TCP_NODELAY), behind a bare `node:http` edge, and the minimal durable writes on the same Cassandra
 * with the product's client settings (createCassandraClient: prepared, LOCAL_QUORUM):
 *   POST /purchases → edge publishes to the owning account worker → 202 { purchaseId }
 *   account: INSERT the purchase PENDING + UPDATE the balance (a plain write of the value it keeps
 *            in memory as the one writer of that user) ─saga exchange─▶ shop: UPDATE the stock (the
 *            one writer of the sku, in memory too) ─saga exchange─▶ account: UPDATE the purchase
 *            COMPLETED ─▶ edge: wakes the long poll (GET /purchases/:id?waitMs=…) from its waiter map.
 * No LWT, no read on the way (each worker reads a key once, the first time it sees it), no
 * idempotency, no retries, no outbox, no mail: what a purchase must at least do, not what the product does.
 * Edge, account and shop are child processes, as the apps are. Tables in keyspace bench_saga_fair.
 */

const KEYSPACE = 'bench_saga_fair';
const PRICE = 1;

interface FairConfig {
  url: string;
  prefetch: number;
  contactPoints: string[];
  localDataCenter: string;
  /** The topic exchange of the saga hops (the product's commerce exchange, one per run). */
  exchange: string;
  /** Account worker i consumes place[i] (edge's requests) and accountSaga[i] (shop's answers). */
  place: string[];
  accountSaga: string[];
  accountKeys: string[];
  shopSaga: string;
  shopKey: string;
  /** Where account's terminal answers go; the edge consumes it. */
  edge: string;
}

interface PurchaseMessage {
  purchaseId: string;
  userId: string;
  sku: string;
  quantity: number;
  amount: number;
  /** The account worker that owns userId. */
  owner: number;
  status: 'PENDING' | 'COMPLETED' | 'REJECTED' | 'CANCELLED';
  /** Shop's answer. */
  reserved?: boolean;
  reason?: string;
  createdAt: number;
  updatedAt: number;
}

/** The one account worker that owns a user (FNV-1a of the id). */
function ownerOf(userId: string, workers: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) hash = Math.imul(hash ^ userId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % workers;
}

async function connectBroker(config: FairConfig) {
  const connection = await amqp.connect(config.url, { noDelay: true });
  const pub: ConfirmChannel = await connection.createConfirmChannel();
  const publish = (exchange: string, routingKey: string, message: PurchaseMessage) =>
    new Promise<void>((resolve, reject) =>
      pub.publish(
        exchange,
        routingKey,
        Buffer.from(JSON.stringify(message)),
        { persistent: true, contentType: 'application/json', messageId: message.purchaseId, correlationId: message.purchaseId },
        (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
      ),
    );
  /** Consumes a queue with manual acks: each delivery is acked once its handler (writes, next publish) resolved. */
  const consume = async (queue: string, handle: (message: PurchaseMessage) => Promise<void>) => {
    const sub: Channel = await connection.createChannel();
    await sub.prefetch(config.prefetch);
    await sub.consume(
      queue,
      (m: ConsumeMessage | null) => {
        if (!m) return;
        handle(JSON.parse(m.content.toString()) as PurchaseMessage).then(
          () => sub.ack(m),
          (error: unknown) => {
            // A bench that failed a step has no figure to give: say why and stop (the parent sees the exit).
            process.stderr.write(`fair-limit ${process.argv[2]}: ${error instanceof Error ? error.stack : String(error)}\n`);
            process.exit(1);
          },
        );
      },
      { noAck: false },
    );
  };
  return { connection, publish, consume };
}

/** Values this worker is the single writer of, read from Cassandra once (the first time the key is seen). */
function ownedValues(load: (key: string) => Promise<number>) {
  const values = new Map<string, { value: number }>();
  const loading = new Map<string, Promise<{ value: number }>>();
  return (key: string): { value: number } | Promise<{ value: number }> => {
    const known = values.get(key);
    if (known) return known;
    let pending = loading.get(key);
    if (!pending) {
      pending = load(key).then((value) => {
        const entry = { value };
        values.set(key, entry);
        loading.delete(key);
        return entry;
      });
      loading.set(key, pending);
    }
    return pending;
  };
}

async function accountWorker(config: FairConfig, index: number): Promise<() => Promise<void>> {
  const db = createCassandraClient({ contactPoints: config.contactPoints, localDataCenter: config.localDataCenter }, KEYSPACE);
  await db.connect();
  const long = (n: number) => types.Long.fromNumber(n);
  const balanceOf = ownedValues(async (userId) =>
    Number((await db.execute('SELECT balance FROM balances WHERE user_id = ?', [userId])).first()?.get('balance') ?? 0),
  );
  const writeBalance = (userId: string, balance: number) => db.execute('UPDATE balances SET balance = ? WHERE user_id = ?', [long(balance), userId]);
  const insertPurchase = (p: PurchaseMessage) =>
    db.execute(
      'INSERT INTO purchases (purchase_id, user_id, sku, quantity, amount, status, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      // `undefined` is an unset value: no reason, no cell (a null would write a tombstone).
      [p.purchaseId, p.userId, p.sku, p.quantity, long(p.amount), p.status, p.reason, new Date(p.createdAt), new Date(p.updatedAt)],
    );
  const broker = await connectBroker(config);

  await broker.consume(config.place[index], async (p) => {
    const balance = await balanceOf(p.userId);
    // Check and debit in memory (one writer per user, no await in between), then write the value.
    if (balance.value < p.amount) {
      const rejected: PurchaseMessage = { ...p, status: 'REJECTED', reason: 'insufficient funds', updatedAt: Date.now() };
      await insertPurchase(rejected);
      return broker.publish('', config.edge, rejected);
    }
    balance.value -= p.amount;
    await Promise.all([insertPurchase({ ...p, status: 'PENDING' }), writeBalance(p.userId, balance.value)]);
    await broker.publish(config.exchange, config.shopKey, { ...p, status: 'PENDING' });
  });

  await broker.consume(config.accountSaga[index], async (p) => {
    const done: PurchaseMessage = { ...p, status: p.reserved ? 'COMPLETED' : 'CANCELLED', updatedAt: Date.now() };
    if (!p.reserved) {
      const balance = await balanceOf(p.userId);
      balance.value += p.amount;
      await writeBalance(p.userId, balance.value);
    }
    await db.execute('UPDATE purchases SET status = ?, reason = ?, updated_at = ? WHERE purchase_id = ?', [
      done.status,
      done.reason,
      new Date(done.updatedAt),
      done.purchaseId,
    ]);
    await broker.publish('', config.edge, done);
  });

  return async () => {
    await broker.connection.close().catch(() => undefined);
    await db.shutdown();
  };
}

async function shopWorker(config: FairConfig): Promise<() => Promise<void>> {
  const db = createCassandraClient({ contactPoints: config.contactPoints, localDataCenter: config.localDataCenter }, KEYSPACE);
  await db.connect();
  const stockOf = ownedValues(async (sku) => Number((await db.execute('SELECT quantity FROM stock WHERE sku = ?', [sku])).first()?.get('quantity') ?? 0));
  const broker = await connectBroker(config);
  await broker.consume(config.shopSaga, async (p) => {
    const stock = await stockOf(p.sku);
    if (stock.value < p.quantity) {
      return broker.publish(config.exchange, config.accountKeys[p.owner], { ...p, reserved: false, reason: 'out of stock' });
    }
    stock.value -= p.quantity;
    await db.execute('UPDATE stock SET quantity = ? WHERE sku = ?', [stock.value, p.sku]);
    await broker.publish(config.exchange, config.accountKeys[p.owner], { ...p, reserved: true });
  });
  return async () => {
    await broker.connection.close().catch(() => undefined);
    await db.shutdown();
  };
}

function view(p: PurchaseMessage) {
  return {
    purchaseId: p.purchaseId,
    userId: p.userId,
    sku: p.sku,
    quantity: p.quantity,
    amount: p.amount,
    status: p.status,
    reason: p.reason,
    createdAt: new Date(p.createdAt).toISOString(),
    updatedAt: new Date(p.updatedAt).toISOString(),
  };
}

async function edgeServer(config: FairConfig): Promise<{ port: number; stop: () => Promise<void> }> {
  const broker = await connectBroker(config);
  /** Purchases under way, and the terminal ones (kept a minute for the GETs that come after the end). */
  const purchases = new Map<string, PurchaseMessage>();
  const waiters = new Map<string, Set<(p: PurchaseMessage) => void>>();

  await broker.consume(config.edge, async (p) => {
    purchases.set(p.purchaseId, p);
    setTimeout(() => purchases.delete(p.purchaseId), 60_000).unref();
    const waiting = waiters.get(p.purchaseId);
    waiters.delete(p.purchaseId);
    for (const wake of waiting ?? []) wake(p);
  });

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => resolve(Buffer.concat(chunks).toString()));
      req.on('error', reject);
    });

  const place = async (req: IncomingMessage, res: ServerResponse) => {
    let body: { userId?: unknown; sku?: unknown; quantity?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      return send(res, 400, { message: 'the body is not JSON' });
    }
    const { userId, sku, quantity } = body;
    if (typeof userId !== 'string' || typeof sku !== 'string' || !Number.isSafeInteger(quantity) || (quantity as number) < 1) {
      return send(res, 400, { message: 'userId, sku and a positive integer quantity are required' });
    }
    const now = Date.now();
    const p: PurchaseMessage = {
      purchaseId: randomUUID(),
      userId,
      sku,
      quantity: quantity as number,
      amount: PRICE * (quantity as number),
      owner: ownerOf(userId, config.place.length),
      status: 'PENDING',
      createdAt: now,
      updatedAt: now,
    };
    purchases.set(p.purchaseId, p);
    try {
      // 202 once the broker has taken responsibility for the request (confirmed, persistent, durable queue).
      await broker.publish('', config.place[p.owner], p);
    } catch {
      purchases.delete(p.purchaseId);
      return send(res, 503, { message: 'the purchase could not be accepted; try again' });
    }
    send(res, 202, { purchaseId: p.purchaseId });
  };

  const get = (res: ServerResponse, id: string, waitMs: number) => {
    const p = purchases.get(id);
    if (!p) return send(res, 404, { message: 'no such purchase' });
    if (p.status !== 'PENDING' || waitMs <= 0) return send(res, 200, view(p));
    const wake = (done: PurchaseMessage) => {
      clearTimeout(timer);
      send(res, 200, view(done));
    };
    const timer = setTimeout(() => {
      waiters.get(id)?.delete(wake);
      send(res, 200, view(purchases.get(id) ?? p));
    }, waitMs);
    let set = waiters.get(id);
    if (!set) waiters.set(id, (set = new Set()));
    set.add(wake);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://edge');
    const match = /^\/purchases\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'POST' && url.pathname === '/purchases') {
      place(req, res).catch(() => send(res, 500, { message: 'internal error' }));
    } else if (req.method === 'GET' && match) {
      get(res, decodeURIComponent(match[1]), Math.min(30_000, Math.max(0, Number(url.searchParams.get('waitMs') ?? 0) || 0)));
    } else {
      send(res, 404, { message: 'not found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await broker.connection.close().catch(() => undefined);
    },
  };
}

/** A child process: `fair-limit.ts <edge|account|shop> [index]`, its config in BENCH_FAIR_CONFIG; says `ready` over IPC, stops on `stop`. */
async function child(): Promise<void> {
  const [role, index] = [process.argv[2], Number(process.argv[3] ?? 0)];
  const config = JSON.parse(process.env.BENCH_FAIR_CONFIG ?? '{}') as FairConfig;
  let stop: () => Promise<void>;
  let port: number | undefined;
  if (role === 'edge') ({ port, stop } = await edgeServer(config));
  else if (role === 'account') stop = await accountWorker(config, index);
  else if (role === 'shop') stop = await shopWorker(config);
  else throw new Error(`unknown role ${role}`);
  process.on('message', (message) => {
    if (message === 'stop') void stop().finally(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true, port });
}

if (require.main === module) {
  child().catch((error: unknown) => {
    process.stderr.write(`fair-limit ${process.argv[2]} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}

function startChild(args: string[], config: FairConfig): { process: ChildProcess; ready: Promise<{ port?: number }> } {
  // Run as this process runs (ts-node and the path aliases), or add them when started some other way.
  const execArgv = process.execArgv.some((a) => a.includes('ts-node')) ? process.execArgv : ['-r', 'ts-node/register', '-r', 'tsconfig-paths/register'];
  const proc = fork(__filename, args, {
    execArgv,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', BENCH_FAIR_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = new Promise<{ port?: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fair-limit ${args.join(' ')}: not ready in 60 s`)), 60_000);
    proc.once('message', (message: { ready?: boolean; port?: number }) => {
      clearTimeout(timer);
      if (message.ready) resolve(message);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fair-limit ${args.join(' ')} exited with ${code}`));
    });
  });
  return { process: proc, ready };
}

export async function fairLimit(
  url: string,
  prefetch: number,
  options: { contactPoints: string[]; localDataCenter: string; buyers: number; stock: number; credit: number; accountWorkers?: number },
) {
  const run = randomUUID().slice(0, 8);
  const workers = Math.max(1, options.accountWorkers ?? 1);
  const base = `bench.${run}.fair`;
  const config: FairConfig = {
    url,
    prefetch,
    contactPoints: options.contactPoints,
    localDataCenter: options.localDataCenter,
    exchange: `${base}.commerce`,
    place: Array.from({ length: workers }, (_, i) => `${base}.account.${i}.place`),
    accountSaga: Array.from({ length: workers }, (_, i) => `${base}.account.${i}.saga`),
    accountKeys: Array.from({ length: workers }, (_, i) => `fair.account.${i}`),
    shopSaga: `${base}.shop.saga`,
    shopKey: 'fair.shop',
    edge: `${base}.edge`,
  };

  // Tables: plain single-partition rows, in a keyspace of their own (replication 1, as the product's CASSANDRA_REPLICATION_FACTOR).
  const db = createCassandraClient({ contactPoints: options.contactPoints, localDataCenter: options.localDataCenter });
  await db.connect();
  const ddl = { prepare: false };
  await db.execute(`CREATE KEYSPACE IF NOT EXISTS ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`, [], ddl);
  await db.execute(
    `CREATE TABLE IF NOT EXISTS ${KEYSPACE}.purchases (purchase_id text PRIMARY KEY, user_id text, sku text, quantity int, amount bigint, status text, reason text, created_at timestamp, updated_at timestamp)`,
    [],
    ddl,
  );
  await db.execute(`CREATE TABLE IF NOT EXISTS ${KEYSPACE}.balances (user_id text PRIMARY KEY, balance bigint)`, [], ddl);
  await db.execute(`CREATE TABLE IF NOT EXISTS ${KEYSPACE}.stock (sku text PRIMARY KEY, quantity int)`, [], ddl);
  const sku = `FAIR-${run}`;
  const users = Array.from({ length: options.buyers }, (_, i) => `fair-${run}-${i}`);
  await db.execute(`INSERT INTO ${KEYSPACE}.stock (sku, quantity) VALUES (?, ?)`, [sku, options.stock]);
  await Promise.all(
    users.map((u) => db.execute(`INSERT INTO ${KEYSPACE}.balances (user_id, balance) VALUES (?, ?)`, [u, types.Long.fromNumber(options.credit)])),
  );

  // Queues as libs/messaging declares the saga's and the RPC's: durable, no arguments; saga hops through a topic exchange.
  const connection = await amqp.connect(url, { noDelay: true });
  const setup = await connection.createChannel();
  await setup.assertExchange(config.exchange, 'topic', { durable: true });
  for (const queue of [...config.place, config.shopSaga, config.edge]) await setup.assertQueue(queue, { durable: true });
  await setup.bindQueue(config.shopSaga, config.exchange, config.shopKey);
  for (let i = 0; i < workers; i++) {
    await setup.assertQueue(config.accountSaga[i], { durable: true });
    await setup.bindQueue(config.accountSaga[i], config.exchange, config.accountKeys[i]);
  }

  const children = [startChild(['shop'], config), ...config.place.map((_, i) => startChild(['account', String(i)], config)), startChild(['edge'], config)];
  const cleanUp = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.process.exitCode !== null || c.process.signalCode !== null) return resolve();
            const timer = setTimeout(() => c.process.kill('SIGKILL'), 10_000);
            c.process.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            if (c.process.connected) c.process.send('stop');
            else c.process.kill('SIGTERM');
          }),
      ),
    );
    for (const queue of [...config.place, ...config.accountSaga, config.shopSaga, config.edge]) await setup.deleteQueue(queue).catch(() => undefined);
    await setup.deleteExchange(config.exchange).catch(() => undefined);
    await connection.close().catch(() => undefined);
    await db.shutdown().catch(() => undefined);
  };
  let edge: string;
  try {
    const ready = await Promise.all(children.map((c) => c.ready));
    edge = `http://127.0.0.1:${ready[ready.length - 1].port}`;
  } catch (error) {
    await cleanUp();
    throw error;
  }

  async function http(method: string, path: string, body?: unknown): Promise<any> {
    const response = await fetch(`${edge}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  let turn = 0;
  return {
    /** One purchase as the system's client does it: POST, then a long poll until it is terminal. */
    async once(): Promise<void> {
      const userId = users[turn++ % users.length];
      const { purchaseId } = await http('POST', '/purchases', { userId, sku, quantity: 1 });
      for (;;) {
        const p = await http('GET', `/purchases/${purchaseId}?waitMs=3000`);
        if (p.status === 'PENDING') continue;
        if (p.status !== 'COMPLETED') throw new Error(`fair purchase ${purchaseId} ended ${p.status}: ${p.reason}`);
        return;
      }
    },
    /** The single writers lose nothing: what is left must be exactly what the completed purchases leave. */
    async audit(completed: number): Promise<{ stockLeft: number; stockExpected: number; balanceTotal: number; balanceExpected: number }> {
      const stockLeft = Number((await db.execute(`SELECT quantity FROM ${KEYSPACE}.stock WHERE sku = ?`, [sku])).first()?.get('quantity'));
      const balances = await Promise.all(
        users.map(async (u) => Number((await db.execute(`SELECT balance FROM ${KEYSPACE}.balances WHERE user_id = ?`, [u])).first()?.get('balance'))),
      );
      return {
        stockLeft,
        stockExpected: options.stock - completed,
        balanceTotal: balances.reduce((a, b) => a + b, 0),
        balanceExpected: options.credit * users.length - completed * PRICE,
      };
    },
    close: cleanUp,
  };
}
