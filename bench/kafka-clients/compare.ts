/*
 * Preliminary comparison of the Kafka clients behind KafkaServer/KafkaPublisher: kafkajs 2.2.4 (in
 * use) against @platformatic/kafka 2.12.1 (maintained, from the npm registry). Not part of
 * `npm run bench`: @platformatic/kafka is not a dependency (it requires Node >= 22.22; on Node 20
 * it runs only with the Promise.withResolvers polyfill below). To run it, with Kafka up
 * (`npm run infra:up`):
 *   npm install --no-save @platformatic/kafka@2.12.1
 *   npx ts-node --transpile-only bench/kafka-clients/compare.ts      # N=…, ROUNDS=… to override
 * Both clients in the same run, 3 rounds alternating, each measurement in a fresh child process
 * (so RSS figures are clean); medians and ratios in BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';

const BROKER = '127.0.0.1:9092';
const N = Number(process.env.N ?? 200_000);
const CHUNK = 1000;
const INFLIGHT = 4;
const LAT_N = 500;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PARTITIONS = 6;

type Client = 'kafkajs' | 'platformatic';

// ESM-only package: load via real dynamic import (ts-node/commonjs would turn import() into require()).
const rawImport = new Function('s', 'return import(s)') as (s: string) => Promise<any>;
// @platformatic/kafka declares node >=22.22; on this Node 20 its only missing API is Promise.withResolvers (ES2024).
// Polyfilled here (platformatic children only) so the comparison can run at all.
const esmImport = (s: string) => {
  if (!(Promise as any).withResolvers)
    (Promise as any).withResolvers = function () {
      let resolve: any, reject: any;
      const promise = new Promise((a, b) => ((resolve = a), (reject = b)));
      return { promise, resolve, reject };
    };
  return rawImport(s);
};

function makeRecords(n: number): { key: string; value: string }[] {
  const out = new Array(n);
  const t0 = Date.parse('2026-12-01T00:00:00.000Z');
  for (let i = 0; i < n; i++) {
    const k = i % 1000;
    const value = JSON.stringify({
      storeId: `s${k}`,
      eventId: `e${String(i).padStart(7, '0')}`,
      sku: `SKU-${(i * 7919) % 5000}`,
      type: i % 10 === 0 ? 'return' : 'sale',
      quantity: (i % 9) + 1,
      occurredAt: new Date(t0 + i * 13).toISOString(),
      channel: 'pos',
      register: `r-${String(i % 16).padStart(2, '0')}`,
      cashier: `c-${String(i % 300).padStart(4, '0')}`,
      currency: 'EUR',
      unitPrice: '12.99',
    });
    out[i] = { key: `store-${k}`, value };
  }
  return out;
}

function rssWatcher() {
  const baseRss = process.memoryUsage.rss();
  const maxRssBefore = process.resourceUsage().maxRSS * 1024;
  let sampled = baseRss;
  const t = setInterval(() => {
    const r = process.memoryUsage.rss();
    if (r > sampled) sampled = r;
  }, 10);
  return () => {
    clearInterval(t);
    const maxRssAfter = process.resourceUsage().maxRSS * 1024;
    const peak = maxRssAfter > maxRssBefore ? Math.max(maxRssAfter, sampled) : sampled;
    return { baseRssMB: baseRss / 2 ** 20, peakDeltaMB: (peak - baseRss) / 2 ** 20 };
  };
}

async function pool<T>(items: T[], width: number, fn: (x: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]);
      }
    }),
  );
}

function chunks<T>(a: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < a.length; i += size) out.push(a.slice(i, i + size));
  return out;
}

// ---------------- produce ----------------
async function produce(client: Client, topic: string, n = N) {
  const recs = chunks(makeRecords(n), CHUNK);
  if (global.gc) global.gc();
  if (client === 'kafkajs') {
    const kafka = new Kafka({ clientId: 'bench', brokers: [BROKER], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    const done = rssWatcher();
    const t0 = performance.now();
    await pool(recs, INFLIGHT, (c) => producer.sendBatch({ topicMessages: [{ topic, messages: c }], acks: -1, compression: CompressionTypes.None }));
    const ms = performance.now() - t0;
    const mem = done();
    await producer.disconnect();
    return { ms, rps: (n / ms) * 1000, ...mem };
  } else {
    const { Producer, stringSerializers, ProduceAcks } = await esmImport('@platformatic/kafka');
    const producer = new Producer({
      clientId: 'bench',
      bootstrapBrokers: [BROKER],
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
    });
    // warm connection + producer id, like kafkajs connect()
    await producer.initIdempotentProducer({});
    await producer.metadata({ topics: [topic] });
    const done = rssWatcher();
    const t0 = performance.now();
    await pool(recs, INFLIGHT, (c) => producer.send({ messages: c.map((m) => ({ topic, key: m.key, value: m.value })), acks: ProduceAcks.ALL }));
    const ms = performance.now() - t0;
    const mem = done();
    await producer.close();
    return { ms, rps: (n / ms) * 1000, ...mem };
  }
}

// ---------------- consume ----------------
async function consume(client: Client, topic: string, group: string, n = N) {
  const plt = client === 'platformatic' ? await esmImport('@platformatic/kafka') : undefined; // load before timing
  if (global.gc) global.gc();
  const done = rssWatcher();
  const t0 = performance.now();
  let tFirst = 0;
  let tJoin = 0;
  let tFetch = 0;
  let seen = 0;
  let batches = 0;
  let commits = 0;
  const perPartition = new Map<number, number>();
  let finish!: () => void;
  const all = new Promise<void>((r) => (finish = r));
  // The same figures for both clients, once all records were seen.
  const result = (ms: number, mem: ReturnType<typeof done>) => ({
    ms,
    rps: (n / ms) * 1000,
    rpsFromFirst: (n / (performance.now() - tFirst)) * 1000,
    joinMs: tJoin - t0,
    firstFetchMs: tFetch - t0,
    firstBatchMs: tFirst - t0,
    batches,
    commits,
    avgBatch: seen / batches,
    ...mem,
  });
  if (client === 'kafkajs') {
    const kafka = new Kafka({ clientId: 'bench', brokers: [BROKER], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: group });
    consumer.on(consumer.events.GROUP_JOIN, () => (tJoin ||= performance.now()));
    consumer.on(consumer.events.FETCH, () => (tFetch ||= performance.now()));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 3, // what the project's group consumer uses
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
        const { messages, partition } = batch;
        if (messages.length === 0) return;
        if (!tFirst) tFirst = performance.now();
        // "validate" like the project does: decode JSON
        for (const m of messages) JSON.parse(m.value!.toString());
        const last = messages[messages.length - 1].offset;
        resolveOffset(last);
        await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }] } as any);
        commits++;
        batches++;
        perPartition.set(partition, (perPartition.get(partition) ?? 0) + messages.length);
        seen += messages.length;
        if (seen >= n) finish();
      },
    });
    await all;
    const ms = performance.now() - t0;
    const mem = done();
    await consumer.disconnect();
    return result(ms, mem);
  } else {
    const { Consumer, stringDeserializers, MessagesStreamModes } = plt;
    const consumer = new Consumer({
      clientId: 'bench',
      groupId: group,
      bootstrapBrokers: [BROKER],
      deserializers: stringDeserializers,
    });
    // PLT_FETCH=kjs: use kafkajs' default fetch sizing (maxBytes 10 MB, maxBytesPerPartition 1 MB)
    // instead of platformatic's default (maxBytes 50 MB, no per-partition cap).
    const sizing = process.env.PLT_FETCH === 'kjs' ? { maxBytes: 10 * 1048576, maxBytesPerPartition: 1048576 } : {};
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false, ...sizing });
    tJoin = performance.now();
    stream.once('fetch', () => (tFetch = performance.now()));
    // No eachBatch: emulate "partition batch" by draining what is buffered in the stream,
    // grouping by partition, handling each group, then committing the last message of each group.
    let busy = false;
    const drain = async () => {
      if (busy) return;
      busy = true;
      try {
        for (;;) {
          const groups = new Map<number, any[]>();
          let m: any;
          while ((m = stream.read()) !== null) {
            let g = groups.get(m.partition);
            if (!g) groups.set(m.partition, (g = []));
            g.push(m);
          }
          if (groups.size === 0) break;
          if (!tFirst) tFirst = performance.now();
          await Promise.all(
            [...groups].map(async ([partition, msgs]) => {
              for (const x of msgs) JSON.parse(x.value);
              await msgs[msgs.length - 1].commit();
              commits++;
              batches++;
              perPartition.set(partition, (perPartition.get(partition) ?? 0) + msgs.length);
              seen += msgs.length;
            }),
          );
          if (seen >= n) {
            finish();
            break;
          }
        }
      } finally {
        busy = false;
      }
      if (seen < n && stream.readableLength > 0) void drain();
    };
    stream.on('readable', () => void drain());
    stream.on('error', (e: Error) => console.error('stream error', e));
    await all;
    const ms = performance.now() - t0;
    const mem = done();
    await stream.close();
    await consumer.close();
    return result(ms, mem);
  }
}

// ---------------- latency ----------------
function pct(a: number[], p: number) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
async function latency(client: Client, topic: string) {
  const value = makeRecords(1)[0];
  const lat: number[] = [];
  if (client === 'kafkajs') {
    const kafka = new Kafka({ clientId: 'bench', brokers: [BROKER], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    for (let i = 0; i < 20; i++) await producer.send({ topic, acks: -1, messages: [value] }); // warm-up
    for (let i = 0; i < LAT_N; i++) {
      const t = performance.now();
      await producer.send({ topic, acks: -1, messages: [{ key: `store-${i % 1000}`, value: value.value }] });
      lat.push(performance.now() - t);
    }
    await producer.disconnect();
  } else {
    const { Producer, stringSerializers, ProduceAcks } = await esmImport('@platformatic/kafka');
    const producer = new Producer({
      clientId: 'bench',
      bootstrapBrokers: [BROKER],
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
    });
    for (let i = 0; i < 20; i++) await producer.send({ messages: [{ topic, ...value }] });
    for (let i = 0; i < LAT_N; i++) {
      const t = performance.now();
      await producer.send({ messages: [{ topic, key: `store-${i % 1000}`, value: value.value }], acks: ProduceAcks.ALL });
      lat.push(performance.now() - t);
    }
    await producer.close();
  }
  return { p50: pct(lat, 50), p99: pct(lat, 99), mean: lat.reduce((a, b) => a + b, 0) / lat.length };
}

// ---------------- orchestration ----------------
async function child() {
  const [, , , client, phase, topic, group] = process.argv;
  let r: unknown;
  if (phase === 'produce') r = await produce(client as Client, topic);
  else if (phase === 'consume') r = await consume(client as Client, topic, group);
  else r = await latency(client as Client, topic);
  process.stdout.write('RESULT ' + JSON.stringify(r) + '\n');
  process.exit(0);
}

function runChild(client: Client, phase: string, topic: string, group = '-', env: Record<string, string> = {}) {
  const res = spawnSync(
    process.execPath,
    ['--expose-gc', '--no-warnings', '-r', 'ts-node/register/transpile-only', __filename, 'child', client, phase, topic, group],
    { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } },
  );
  const line = res.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${client} ${phase} failed: ${res.status} ${res.stderr}\n${res.stdout}`);
  const r = JSON.parse(line.slice(7));
  console.log(
    `  ${phase.padEnd(8)} ${(client + (env.PLT_FETCH ? '*' : '')).padEnd(13)} ${JSON.stringify(r, (_k, v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v))}`,
  );
  return r;
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const run = Date.now().toString(36);
  const kafka = new Kafka({ clientId: 'bench-admin', brokers: [BROKER], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const mk = async (t: string) => {
    await admin.createTopics({ topics: [{ topic: t, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
    return t;
  };
  const res: Record<string, Record<Client, any[]>> = {
    produce: { kafkajs: [], platformatic: [] },
    consume: { kafkajs: [], platformatic: [], 'platformatic*': [] } as any,
    latency: { kafkajs: [], platformatic: [] },
  };
  const order = (r: number): Client[] => (r % 2 === 0 ? ['kafkajs', 'platformatic'] : ['platformatic', 'kafkajs']);

  console.log(`run ${run}: N=${N}, rounds=${ROUNDS}`);
  console.log('# produce');
  const produced: Record<Client, string[]> = { kafkajs: [], platformatic: [] };
  for (let r = 0; r < ROUNDS; r++)
    for (const c of order(r)) {
      const t = await mk(`bench-${run}-p-${c}-${r}`);
      res.produce[c].push(runChild(c, 'produce', t));
      produced[c].push(t);
    }
  // consume: each client reads the same topics (one kafkajs-produced, one platformatic-produced, alternating per round)
  console.log('# consume');
  for (let r = 0; r < ROUNDS; r++) {
    const topic = r % 2 === 0 ? produced.kafkajs[0] : produced.platformatic[0];
    for (const c of order(r)) {
      res.consume[c].push({ ...runChild(c, 'consume', topic, `g-${run}-${c}-${r}`), topic });
      if (c === 'platformatic')
        (res.consume as any)['platformatic*'].push({ ...runChild(c, 'consume', topic, `g-${run}-${c}s-${r}`, { PLT_FETCH: 'kjs' }), topic });
    }
  }
  console.log('# latency');
  for (let r = 0; r < ROUNDS; r++)
    for (const c of order(r)) {
      const t = await mk(`bench-${run}-l-${c}-${r}`);
      res.latency[c].push(runChild(c, 'latency', t));
    }
  for (const t of [...produced.kafkajs, ...produced.platformatic]) {
    const o = await admin.fetchTopicOffsets(t);
    console.log(
      `  check ${t}: total=${o.reduce((a, p) => a + Number(p.high), 0)} per-partition=${o
        .sort((a, b) => a.partition - b.partition)
        .map((p) => p.high)
        .join(',')}`,
    );
  }
  await admin.disconnect();

  const rows: [string, string, string][] = [
    ['produce', 'rps', 'records/s'],
    ['produce', 'peakDeltaMB', 'peak RSS delta MB'],
    ['consume', 'rps', 'records/s incl. join'],
    ['consume', 'rpsFromFirst', 'records/s from 1st batch'],
    ['consume', 'joinMs', 'ms to group joined'],
    ['consume', 'firstFetchMs', 'ms to 1st fetch done'],
    ['consume', 'firstBatchMs', 'ms to 1st batch handed over'],
    ['consume', 'batches', 'partition batches (= commits)'],
    ['consume', 'avgBatch', 'records per partition batch'],
    ['consume', 'peakDeltaMB', 'peak RSS delta MB'],
    ['latency', 'p50', 'single send p50 ms'],
    ['latency', 'p99', 'single send p99 ms'],
  ];
  console.log('\n| phase | metric | kafkajs (3 rounds) | kafkajs median | platformatic (3 rounds) | platformatic median | ratio plt/kjs |');
  console.log('|---|---|---|---|---|---|---|');
  const f = (x: number) => (x >= 100 ? Math.round(x).toString() : x.toFixed(2));
  for (const [ph, key, label] of rows) {
    const a = res[ph].kafkajs.map((x) => x[key]);
    const b = res[ph].platformatic.map((x) => x[key]);
    const ma = median(a);
    const mb = median(b);
    console.log(`| ${ph} | ${label} | ${a.map(f).join(', ')} | ${f(ma)} | ${b.map(f).join(', ')} | ${f(mb)} | ${(mb / ma).toFixed(2)} |`);
    if (ph === 'consume') {
      const c = (res.consume as any)['platformatic*'].map((x: any) => x[key]);
      const mc = median(c);
      console.log(`| consume* | ${label} | (same) | ${f(ma)} | ${c.map(f).join(', ')} | ${f(mc)} | ${(mc / ma).toFixed(2)} |`);
    }
  }
}

if (process.argv[2] === 'child')
  child().catch((e) => {
    console.error(e);
    process.exit(1);
  });
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
