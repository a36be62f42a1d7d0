/**
 * npm run bench:stock — the stock pipeline measured in one run on this machine, each figure next to
 * its baseline from the same run (see BENCHMARKS.md "Stock pipeline"). Needs `npm run build` and
 * `npm run infra:up`. Uses its own topics, stores and ports (49xx), so a dev system can keep running.
 * Env: BENCH_EVENTS (events for the ingest/process runs, default 300000); BENCH_KAFKA_CLIENTS=both also
 * measures ingest with @platformatic/kafka under its publisher (bench/kafka-clients/platformatic-producer.cjs).
 * Fair limits beside the baselines: the ingest floor (bench/stock/ingest-floor.ts: node:http + validation +
 * one producer.send per request) and the process fold limit (bench/stock/fold-limit.ts: eachBatch + an
 * in-memory fold + two upserts per key and batch).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, concurrent } from 'cassandra-driver';
import { Kafka, logLevel } from 'kafkajs';
import { FOLD_TABLES, startFoldLoop } from './fold-limit';
import { recordBytes, stockRecord } from './stock-record';

const ROOT = resolve(__dirname, '../..');
const RESULTS = join(ROOT, 'bench', 'results');
const RUN = Date.now().toString(36);
const TOPIC = `stock.bench.${RUN}`;
const LIMIT_TOPIC = `stock.bench.${RUN}.limit`;
const NAIVE_TOPIC = `stock.bench.${RUN}.naive`;
const FLOOR_TOPIC = `stock.bench.${RUN}.floor`;
const N = Number(process.env.BENCH_EVENTS ?? 300_000);
const PER_REQUEST = 5000;
const STORES = Array.from({ length: 4 }, (_, i) => `bench-${RUN}-${i + 1}`);
const KEYS = STORES.map((s) => `${s}:key-${s}`).join(',');
const CLIENT_TOPIC = `stock.bench.${RUN}.clients`;
const BOTH_CLIENTS = process.env.BENCH_KAFKA_CLIENTS === 'both';
const PORTS = { api: 4900, ingest: 4901, process: 4902, ingestMem: 4903, ingestClients: 4904, ingestFloor: 4905, naive: 4950 };
const kafka = new Kafka({ clientId: 'bench-stock', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING });
const children: ChildProcess[] = [];
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(name: string, args: string[], env: Record<string, string>): ChildProcess {
  mkdirSync(join(RESULTS, 'tmp'), { recursive: true });
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // The last lines of stderr, shown if the child dies on its own (a start that fails would otherwise leave no trace).
  let tail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  });
  child.once('close', (code) => {
    if (code) log(`${name} (pid ${child.pid}) exited with code ${code}; its last stderr:\n${tail}`);
  });
  children.push(child);
  log(`started ${name} (pid ${child.pid})`);
  return child;
}
const startApp = (app: string, env: Record<string, string>) => start(app, [join(ROOT, 'dist', 'apps', app, 'src', 'main.js')], env);
const startTs = (file: string, env: Record<string, string>) =>
  start(file, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'bench', 'stock', file)], env);

/** Until `url` answers 2xx (or, with `anyAnswer`, answers at all: a server without a route there). */
async function waitHttp(url: string, timeoutMs = 120_000, anyAnswer = false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok || anyAnswer,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready`);
    await sleep(250);
  }
}

type Event = { eventId: string; sku: string; type: string; quantity: number; occurredAt: string };
function makeBodies(store: number, count: number, tag: string): string[] {
  const bodies: string[] = [];
  const base = Date.now() - 86_400_000;
  for (let i = 0; i < count; i += PER_REQUEST) {
    const events: Event[] = [];
    for (let j = i; j < Math.min(count, i + PER_REQUEST); j++) {
      const type = j % 50 === 0 ? 'count' : j % 5 === 0 ? 'delivery' : 'sale';
      events.push({
        eventId: `${tag}-${j}`,
        sku: `SKU-${String(randomInt(20_000)).padStart(5, '0')}`,
        type,
        quantity: randomInt(1, 50),
        occurredAt: new Date(base + j).toISOString(),
      });
    }
    bodies.push(JSON.stringify(events));
  }
  return bodies;
}

async function post(port: number, store: string, body: string, type = 'application/json'): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/v1/stores/${store}/stock-events`, {
    method: 'POST',
    headers: { 'content-type': type, 'x-api-key': `key-${store}` },
    body,
  });
}

/** Sends every body with `parallel` requests in flight; returns events per second. */
async function sendAll(port: number, bodies: string[], perBody: number, parallel = 4): Promise<number> {
  const queue = bodies.map((b, i) => ({ body: b, store: STORES[i % STORES.length] }));
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const response = await post(port, item.store, item.body);
        if (response.status !== 202) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
      }
    }),
  );
  return (bodies.length * perBody) / ((performance.now() - started) / 1000);
}

async function committed(group: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return offsets.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Events/s of a consumer group between its first and its last commit, until `total` or `maxMs`. */
async function consumeRate(group: string, topic: string, total: number, maxMs: number): Promise<{ rate: number; consumed: number }> {
  let first: { t: number; c: number } | undefined;
  let last = { t: performance.now(), c: 0 };
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const c = await committed(group, topic);
    const t = performance.now();
    if (c > 0 && !first) first = { t, c };
    if (c !== last.c) last = { t, c };
    if (c >= total) break;
    await sleep(200);
  }
  if (!first || last.c === first.c) return { rate: 0, consumed: last.c };
  return { rate: (last.c - first.c) / ((last.t - first.t) / 1000), consumed: last.c };
}

async function rawLoop(cassandra: Client, total: number): Promise<number> {
  const group = `bench-raw-${RUN}`;
  const consumer = kafka.consumer({ groupId: group, maxBytesPerPartition: 4 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
  const insert = 'INSERT INTO bench_events (store_id, sku, event_id, type, quantity, occurred_at) VALUES (?, ?, ?, ?, ?, ?)';
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch, resolveOffset }) => {
      const params = batch.messages.map((m) => {
        const e = JSON.parse(m.value!.toString()) as Event & { storeId: string };
        return [e.storeId, e.sku, e.eventId, e.type, e.quantity, new Date(e.occurredAt)];
      });
      await concurrent.executeConcurrent(cassandra, insert, params, { concurrencyLevel: 128 });
      const lastOffset = batch.messages[batch.messages.length - 1].offset;
      resolveOffset(lastOffset);
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(lastOffset) + 1) }]);
    },
  });
  const { rate } = await consumeRate(group, TOPIC, total, 600_000);
  await consumer.disconnect();
  return rate;
}

/** The fold limit (bench/stock/fold-limit.ts) on the same pre-filled topic, in a group of its own. */
async function foldLoop(cassandra: Client, total: number): Promise<number> {
  const group = `bench-fold-${RUN}`;
  const consumer = await startFoldLoop(kafka, cassandra, TOPIC, group);
  const { rate } = await consumeRate(group, TOPIC, total, 600_000);
  await consumer.disconnect();
  return rate;
}

/** Levels of one store in the fold limit's read model against process's: keys compared and keys that differ. */
async function compareLevels(cassandra: Client, store: string): Promise<{ keys: number; missing: number; different: number }> {
  const read = async (query: string) => {
    const levels = new Map<string, string>();
    for await (const row of cassandra.stream(query, [store], { prepare: true, fetchSize: 5000 }) as unknown as AsyncIterable<{
      sku: string;
      quantity: unknown;
    }>) {
      levels.set(row.sku, String(row.quantity));
    }
    return levels;
  };
  const fold = await read('SELECT sku, quantity FROM bench_fold_levels WHERE store_id = ?');
  const product = await read('SELECT sku, quantity FROM stock_levels WHERE store_id = ?');
  let missing = 0;
  let different = 0;
  for (const [sku, quantity] of product) {
    const other = fold.get(sku);
    if (other === undefined) missing++;
    else if (other !== quantity) different++;
  }
  return { keys: product.size, missing: missing + [...fold.keys()].filter((sku) => !product.has(sku)).length, different };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function freshness(rate: number, seconds: number): Promise<{ p50: number; p99: number; samples: number; rate: number }> {
  const perRequest = 500;
  const interval = (perRequest / rate) * 1000;
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const end = Date.now() + seconds * 1000;
  let i = 0;
  for (let next = performance.now(); Date.now() < end; next += interval) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    const store = STORES[i % STORES.length];
    const marker = `FRESH-${RUN}-${i++}`;
    const quantity = randomInt(1, 1000);
    const events = makeBodies(0, perRequest, `fresh-${RUN}-${i}`)[0];
    const body = JSON.stringify([
      { eventId: `${marker}-c`, sku: marker, type: 'count', quantity, occurredAt: new Date(Date.now() - 1000).toISOString() },
      ...JSON.parse(events).slice(1),
    ]);
    pending.push(
      (async () => {
        const response = await post(PORTS.ingest, store, body);
        if (response.status !== 202) return;
        const acked = performance.now();
        for (let tries = 0; tries < 1000; tries++) {
          const r = await fetch(`http://127.0.0.1:${PORTS.api}/v1/stores/${store}/stock/${marker}`);
          if (r.ok && ((await r.json()) as { quantity: number }).quantity === quantity) {
            latencies.push(performance.now() - acked);
            return;
          }
          await sleep(20);
        }
      })(),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), samples: latencies.length, rate };
}

function peakRss(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)![1]);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

/**
 * Ingest with each Kafka client under the product's publisher, on a topic of its own, alternating
 * kafkajs, @platformatic/kafka, kafkajs, @platformatic/kafka (each a fresh ingest process, warmed up).
 */
async function compareClients(bodies: string[], appEnv: Record<string, string>) {
  const preload = join(ROOT, 'bench', 'kafka-clients', 'platformatic-producer.cjs');
  const rates: Record<'kafkajs' | 'platformatic', number[]> = { kafkajs: [], platformatic: [] };
  for (const client of ['kafkajs', 'platformatic', 'kafkajs', 'platformatic'] as const) {
    const args = [...(client === 'platformatic' ? ['-r', preload] : []), join(ROOT, 'dist', 'apps', 'ingest', 'src', 'main.js')];
    const child = start(`ingest (${client})`, args, { ...appEnv, STOCK_TOPIC: CLIENT_TOPIC, INGEST_PORT: String(PORTS.ingestClients) });
    await waitHttp(`http://127.0.0.1:${PORTS.ingestClients}/health/ready`);
    await sendAll(PORTS.ingestClients, makeBodies(0, 2 * PER_REQUEST, `warm-${client}-${RUN}`), PER_REQUEST);
    const rate = await sendAll(PORTS.ingestClients, bodies, PER_REQUEST);
    rates[client].push(rate);
    log(`ingest with ${client}: ${Math.round(rate)} events/s`);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  return { kafkajs: rates.kafkajs, platformatic: rates.platformatic, ratio: mean(rates.platformatic) / mean(rates.kafkajs) };
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'apps', 'ingest', 'src', 'main.js'))) throw new Error('run `npm run build` first');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [TOPIC, LIMIT_TOPIC, NAIVE_TOPIC, CLIENT_TOPIC, FLOOR_TOPIC].map((topic) => ({ topic, numPartitions: 6 })),
    waitForLeaders: true,
  });
  await admin.disconnect();
  const cassandra = new Client({ contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1' });
  await cassandra.connect();
  await cassandra.execute("CREATE KEYSPACE IF NOT EXISTS stock WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
  await cassandra.execute(
    'CREATE TABLE IF NOT EXISTS stock.bench_events (store_id text, sku text, event_id text, type text, quantity bigint, occurred_at timestamp, PRIMARY KEY ((store_id, sku), event_id))',
  );
  for (const table of FOLD_TABLES) await cassandra.execute(table);
  await cassandra.shutdown();
  const cassandraStock = new Client({ contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1', keyspace: 'stock' });
  await cassandraStock.connect();
  const results: Record<string, unknown> = {
    run: RUN,
    date: new Date().toISOString(),
    events: N,
    eventsPerRequest: PER_REQUEST,
    cpus: (await import('node:os')).cpus().length,
  };

  try {
    // --- ingest ---
    const appEnv = { STORE_API_KEYS: KEYS, RATE_LIMIT_RPS: '0', STOCK_TOPIC: TOPIC, KAFKA_PUBLISH_TIMEOUT_MS: '30000' };
    startApp('ingest', { ...appEnv, INGEST_PORT: String(PORTS.ingest) });
    await waitHttp(`http://127.0.0.1:${PORTS.ingest}/health/ready`);
    log(`generating ${N} events`);
    const bodies = STORES.flatMap((_, s) => makeBodies(s, N / STORES.length, `ev-${RUN}-${s}`));
    const sample = JSON.stringify({ storeId: STORES[0], ...(JSON.parse(bodies[0]) as Event[])[0] });
    await sendAll(PORTS.ingest, makeBodies(0, 2 * PER_REQUEST, `warm-${RUN}`), PER_REQUEST); // warm-up (JIT, connections)
    const ingestRate = await sendAll(PORTS.ingest, bodies, PER_REQUEST);
    log(`ingest: ${Math.round(ingestRate)} events/s`);

    // Bytes per record as ingest writes it (key + value + headers), over the first requests, each for the store sendAll posts it to.
    const correlation = randomUUID(); // what ingest puts in correlation-id when the client sends none
    const built = bodies
      .slice(0, STORES.length)
      .flatMap((body, i) => (JSON.parse(body) as Event[]).map((e) => stockRecord(STORES[i % STORES.length], e, correlation, Date.now())));
    const valid = built.flatMap((b) => (b.ok ? [recordBytes(b.record)] : []));
    const recordSize = valid.reduce((sum, bytes) => sum + bytes, 0) / valid.length;

    log('floor: node:http + validateStockEvent + one producer.send per request');
    const floor = startTs('ingest-floor.ts', { PORT: String(PORTS.ingestFloor), TOPIC: FLOOR_TOPIC, STORE_API_KEYS: KEYS });
    await waitHttp(`http://127.0.0.1:${PORTS.ingestFloor}/health/ready`);
    await sendAll(PORTS.ingestFloor, makeBodies(0, 2 * PER_REQUEST, `warm-floor-${RUN}`), PER_REQUEST); // warm-up, as for ingest
    const floorRate = await sendAll(PORTS.ingestFloor, bodies, PER_REQUEST);
    floor.kill('SIGTERM');
    await new Promise((r) => floor.once('exit', r));
    log(`floor: ${Math.round(floorRate)} events/s`);
    if (BOTH_CLIENTS) results.ingestClients = await compareClients(bodies, appEnv);

    log('limit: Kafka ProducerPerformance');
    const perf = execFileSync(
      'java',
      [
        '-cp',
        join(ROOT, '.infra', 'kafka', 'lib', '*'),
        'org.apache.kafka.tools.ProducerPerformance',
        '--topic',
        LIMIT_TOPIC,
        '--num-records',
        String(Math.max(N, 500_000)),
        '--record-size',
        String(sample.length),
        '--throughput',
        '-1',
        '--producer-props',
        'bootstrap.servers=127.0.0.1:9092',
        'acks=all',
        'enable.idempotence=true',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const perfTotal = perf.trim().split('\n').pop()!;
    const limitRate = Number(/([\d.]+) records\/sec/.exec(perfTotal)![1]);
    // ProducerPerformance's MB are 1024 × 1024 bytes of record values (it sends no key and no headers).
    const limitMbPerSecond = Number(/([\d.]+) MB\/sec/.exec(perfTotal)![1]);
    log(`limit: ${Math.round(limitRate)} records/s, ${limitMbPerSecond} MB/s (record size ${sample.length} bytes)`);

    log('peer: naive Nest ingest (ClientKafka.emit per event)');
    const naive = startTs('naive-ingest.ts', { PORT: String(PORTS.naive), TOPIC: NAIVE_TOPIC });
    await waitHttp(`http://127.0.0.1:${PORTS.naive}/`, 120_000, true);
    const naiveBodies = makeBodies(0, Math.min(N, 50_000), `naive-${RUN}`);
    await sendAll(PORTS.naive, naiveBodies.slice(0, 1), PER_REQUEST, 1);
    const peerRate = await sendAll(PORTS.naive, naiveBodies.slice(1), PER_REQUEST);
    naive.kill('SIGKILL');
    log(`peer: ${Math.round(peerRate)} events/s`);
    const mbPerSecond = (ingestRate * recordSize) / (1024 * 1024);
    results.ingest = {
      eventsPerSecond: ingestRate,
      limit: limitRate,
      peer: peerRate,
      vsLimit: ingestRate / limitRate,
      vsPeer: ingestRate / peerRate,
      floor: floorRate,
      vsFloor: ingestRate / floorRate,
      recordBytes: recordSize,
      limitRecordBytes: sample.length,
      mbPerSecond,
      limitMbPerSecond,
      vsLimitBytes: mbPerSecond / limitMbPerSecond,
    };

    // --- process (the topic now holds N + warm-up events) ---
    const total = N + 2 * PER_REQUEST;
    log('raw loop: kafkajs eachBatch + executeConcurrent');
    const rawRate = await rawLoop(cassandraStock, total);
    log(`raw: ${Math.round(rawRate)} events/s`);

    log('fold limit: kafkajs eachBatch + in-memory fold + state and read-model upsert per key');
    const foldRate = await foldLoop(cassandraStock, total);
    log(`fold: ${Math.round(foldRate)} events/s`);

    log('process');
    const group = `bench-process-${RUN}`;
    startApp('process', { ...appEnv, PROCESS_PORT: String(PORTS.process), STOCK_CONSUMER_GROUP: group });
    const processRun = await consumeRate(group, TOPIC, total, 900_000);
    log(`process: ${Math.round(processRun.rate)} events/s`);
    // The fold limit must compute what process computes, or it is no limit for it.
    const foldCheck = processRun.consumed >= total ? await compareLevels(cassandraStock, STORES[0]) : undefined;
    log(`fold vs process levels of ${STORES[0]}: ${JSON.stringify(foldCheck ?? 'process did not finish')}`);

    log('peer: naive Nest @EventPattern, one awaited write per event (40 s)');
    const naiveProcess = startTs('naive-process.ts', { TOPIC, GROUP: `bench-naive-${RUN}` });
    const naiveRun = await consumeRate(`bench-naive-${RUN}`, TOPIC, total, 40_000);
    naiveProcess.kill('SIGKILL');
    log(`peer: ${Math.round(naiveRun.rate)} events/s`);
    results.process = {
      eventsPerSecond: processRun.rate,
      raw: rawRate,
      peer: naiveRun.rate,
      vsRaw: processRun.rate / rawRate,
      vsPeer: processRun.rate / naiveRun.rate,
      fold: foldRate,
      vsFold: processRun.rate / foldRate,
      foldCheck,
    };

    // --- freshness at half the sustained rate of the slower stage ---
    startApp('api', { API_PORT: String(PORTS.api), RATE_LIMIT_RPS: '0' });
    await waitHttp(`http://127.0.0.1:${PORTS.api}/health/live`);
    const sustained = Math.min(ingestRate, processRun.rate);
    log(`freshness at ${Math.round(sustained / 2)} events/s for 20 s`);
    results.freshness = await freshness(sustained / 2, 20);
    log(`freshness: ${JSON.stringify(results.freshness)}`);

    // --- ingest memory on a 10 MiB CSV ---
    const mem = startApp('ingest', { ...appEnv, INGEST_PORT: String(PORTS.ingestMem) });
    await waitHttp(`http://127.0.0.1:${PORTS.ingestMem}/health/ready`);
    // 48,000 lines of ~212 bytes (long ids and skus): just under both limits, 10 MiB and 50,000 events
    const lines = ['eventId,sku,type,quantity,occurredAt'];
    for (let i = 0; i < 48_000; i++) {
      const id = `${RUN}-mem-${i}-`.padEnd(128, 'x');
      lines.push(`${id},${`SKU-${i % 20_000}-`.padEnd(50, 'y')},sale,1,${new Date(Date.now() - 60_000).toISOString()}`);
    }
    const csv = lines.join('\n') + '\n';
    const before = peakRss(mem.pid!);
    const response = await fetch(`http://127.0.0.1:${PORTS.ingestMem}/v1/stores/${STORES[0]}/stock-events`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', 'x-api-key': `key-${STORES[0]}` },
      body: csv,
    });
    const after = peakRss(mem.pid!);
    results.memory = {
      bodyBytes: Buffer.byteLength(csv),
      status: response.status,
      rssBefore: before.rss,
      peakRss: after.hwm,
      growth: after.hwm - before.rss,
      growthVsBody: (after.hwm - before.rss) / Buffer.byteLength(csv),
    };
    log(`memory: ${JSON.stringify(results.memory)}`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await cassandraStock.shutdown();
  }

  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `stock-${RUN}.json`), JSON.stringify(results, null, 2));
  writeFileSync(join(RESULTS, 'stock-latest.json'), JSON.stringify(results, null, 2));
  const r = results as any;
  const f = (n: number) => Math.round(n).toLocaleString('en');
  const table = [
    `Run ${r.run} on ${r.date.slice(0, 10)}, ${r.cpus} CPUs (everything on one machine: Kafka, Cassandra, the apps and the load generator), ${f(r.events)} events, ${r.eventsPerRequest} per request.`,
    '',
    '| measure | result | baseline (same run) | ratio | goal |',
    '|---|---|---|---|---|',
    `| ingest, events/s over HTTP | ${f(r.ingest.eventsPerSecond)} | limit: Kafka ProducerPerformance ${f(r.ingest.limit)} | ${r.ingest.vsLimit.toFixed(2)}× | ≥ 0.5× |`,
    `| ingest, MB/s (key + value + headers, ${f(r.ingest.recordBytes)} bytes a record) | ${r.ingest.mbPerSecond.toFixed(1)} | limit: ProducerPerformance ${r.ingest.limitMbPerSecond.toFixed(1)} MB/s (values of ${r.ingest.limitRecordBytes} bytes) | ${r.ingest.vsLimitBytes.toFixed(2)}× | ≥ 0.5× |`,
    `| ingest vs floor (node:http + validateStockEvent + one producer.send per request) | ${f(r.ingest.eventsPerSecond)} | floor ${f(r.ingest.floor)} | ${r.ingest.vsFloor.toFixed(2)}× | ≥ 0.8× |`,
    `| ingest vs naive Nest (ClientKafka.emit per event) | ${f(r.ingest.eventsPerSecond)} | peer ${f(r.ingest.peer)} | ${r.ingest.vsPeer.toFixed(1)}× | ≥ 5× |`,
    `| process, events/s from a pre-filled topic | ${f(r.process.eventsPerSecond)} | raw loop (eachBatch + executeConcurrent) ${f(r.process.raw)} | ${r.process.vsRaw.toFixed(2)}× | ≥ 0.6× |`,
    `| process vs fold limit (eachBatch + in-memory fold + state and read-model upsert per key) | ${f(r.process.eventsPerSecond)} | fold ${f(r.process.fold)} | ${r.process.vsFold.toFixed(2)}× | ≥ 0.8× |`,
    `| process vs naive Nest @EventPattern | ${f(r.process.eventsPerSecond)} | peer ${f(r.process.peer)} | ${r.process.vsPeer.toFixed(1)}× | ≥ 10× |`,
    `| freshness 202 → visible in api at ${f(r.freshness.rate)} events/s | p50 ${f(r.freshness.p50)} ms, p99 ${f(r.freshness.p99)} ms (${r.freshness.samples} samples) | | | p99 ≤ 1 s |`,
    ...(r.ingestClients
      ? [
          `| ingest with @platformatic/kafka under the publisher (alternating runs) | ${r.ingestClients.platformatic.map(f).join(', ')} | kafkajs ${r.ingestClients.kafkajs.map(f).join(', ')} | ${r.ingestClients.ratio.toFixed(2)}× | |`,
        ]
      : []),
    `| ingest memory, ${(r.memory.bodyBytes / 1048576).toFixed(1)} MiB CSV (HTTP ${r.memory.status}) | peak RSS ${(r.memory.peakRss / 1048576).toFixed(0)} MiB, +${(r.memory.growth / 1048576).toFixed(0)} MiB | RSS before ${(r.memory.rssBefore / 1048576).toFixed(0)} MiB | ${r.memory.growthVsBody.toFixed(1)}× the body | < 10× |`,
  ].join('\n');
  writeFileSync(join(RESULTS, 'stock-latest.md'), table + '\n');
  process.stdout.write(`${table}\n`);
}

main()
  .then(() => process.exit(0))
  .catch((error: Error) => {
    for (const child of children) child.kill('SIGKILL');
    process.stderr.write(`bench:stock failed: ${error.stack}\n`);
    process.exit(1);
  });
