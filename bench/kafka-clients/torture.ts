/*
 * Exactly-once torture test of the two Kafka clients (kafkajs 2.2.4, in use, and
 * @platformatic/kafka 2.12.1): unique ids produced while the broker is paused (SIGSTOP) and then
 * killed (-9) and restarted, consumed by a group that commits after its effect; duplicates and
 * gaps counted, in the log and at the consumer. Each client runs with an idempotent producer (what
 * the project's KafkaPublisher does: a failed or timed-out request is sent again by a fresh
 * producer, as a store resends after a 503) and with a transactional producer (one transaction
 * per request, aborted on failure, consumers read_committed).
 *
 * Not part of `npm run bench` (it restarts Kafka, and @platformatic/kafka is not a dependency:
 * it requires Node >= 22.22). With Kafka started by this checkout (`npm run infra:up`):
 *   npm install --prefix .infra/bench-deps @platformatic/kafka@2.12.1
 *   npx ts-node --transpile-only bench/kafka-clients/torture.ts        # MODES=kafkajs-idempotent,… N=…
 * Figures and reasons: BENCHMARKS.md, "Kafka client".
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

const ROOT = resolve(__dirname, '../..');
const BROKER = '127.0.0.1:9092';
const N = Number(process.env.N ?? 40_000);
const CHUNK = 200;
const LANES = 4;
const RATE = Number(process.env.RATE ?? 2_500); // ids per second offered, so the faults land mid-run
const ATTEMPT_TIMEOUT_MS = 10_000;
const PARTITIONS = 6;
const MODES = (process.env.MODES ?? 'kafkajs-idempotent,platformatic-idempotent,kafkajs-transactional,platformatic-transactional').split(',');

type Client = 'kafkajs' | 'platformatic';
interface Mode {
  client: Client;
  transactional: boolean;
}
const parseMode = (m: string): Mode => ({ client: m.startsWith('kafkajs') ? 'kafkajs' : 'platformatic', transactional: m.endsWith('transactional') });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
const infra = (...args: string[]) => promisify(execFile)(process.execPath, [join(ROOT, 'scripts/infra/infra.mjs'), ...args]);
const quiet = { logLevel: logLevel.NOTHING };

// ESM-only package, loaded by a real dynamic import from where it was installed. On Node 20 its only
// missing API is Promise.withResolvers (ES2024), polyfilled here so the test can run at all.
const rawImport = new Function('s', 'return import(s)') as (s: string) => Promise<any>;
async function platformatic(): Promise<any> {
  if (!(Promise as any).withResolvers)
    (Promise as any).withResolvers = function () {
      let resolve: unknown, reject: unknown;
      const promise = new Promise((a, b) => ((resolve = a), (reject = b)));
      return { promise, resolve, reject };
    };
  const dir = process.env.PLATFORMATIC_KAFKA_DIR ?? join(ROOT, '.infra/bench-deps/node_modules/@platformatic/kafka');
  return rawImport(join(dir, 'dist/index.js'));
}

/** The message and, for a client's error with causes or broker error codes, the first of them. */
function describe(error: unknown): string {
  const e = error as Error & { errors?: unknown[]; response?: { errorCode?: number }; type?: string };
  const cause = e.errors?.[0] as (Error & { apiCode?: number; code?: string; response?: unknown }) | undefined;
  const detail = cause ? ` (${cause.code ?? ''} ${cause.apiCode ?? ''} ${cause.message})` : e.type ? ` (${e.type})` : '';
  return `${e.message}${detail}`.slice(0, 300);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))),
  ]);
}

interface Record {
  key: string;
  value: string;
}

/** One producer lane: sends a chunk and resolves once it is acknowledged (or committed); throws otherwise. */
interface Lane {
  send(topic: string, records: Record[]): Promise<void>;
  /** Dropped after a failure: a fresh producer (same transactional id, which fences the old one). */
  discard(): void;
}

function kafkajsLane(mode: Mode, lane: number, run: string): Lane {
  const kafka = new Kafka({ clientId: `torture-${lane}`, brokers: [BROKER], ...quiet });
  let producer: ReturnType<Kafka['producer']> | undefined;
  const get = async () => {
    if (producer) return producer;
    const p = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
      ...(mode.transactional ? { transactionalId: `torture-${run}-${lane}` } : {}),
    });
    await p.connect();
    return (producer = p);
  };
  return {
    async send(topic, records) {
      const p = await get();
      if (!mode.transactional) {
        await p.send({ topic, messages: records, acks: -1 });
        return;
      }
      const tx = await p.transaction();
      try {
        await tx.send({ topic, messages: records, acks: -1 });
        await tx.commit();
      } catch (error) {
        await tx.abort().catch(() => undefined);
        throw error;
      }
    },
    discard() {
      const old = producer;
      producer = undefined;
      void old?.disconnect().catch(() => undefined);
    },
  };
}

function platformaticLane(plt: any, mode: Mode, lane: number, run: string): Lane {
  let producer: any;
  const get = () =>
    (producer ??= new plt.Producer({
      clientId: `torture-${lane}`,
      bootstrapBrokers: [BROKER],
      serializers: plt.stringSerializers,
      idempotent: true,
      acks: plt.ProduceAcks.ALL,
      autocreateTopics: false,
      retries: 3,
      retryDelay: 500,
      ...(mode.transactional ? { transactionalId: `torture-${run}-${lane}` } : {}),
    }));
  return {
    async send(topic, records) {
      const p = get();
      const messages = records.map((r) => ({ topic, key: r.key, value: r.value }));
      if (!mode.transactional) {
        await p.send({ messages, acks: plt.ProduceAcks.ALL });
        return;
      }
      const tx = await p.beginTransaction();
      try {
        await tx.send({ messages });
        await tx.commit();
      } catch (error) {
        await tx.abort().catch(() => undefined);
        throw error;
      }
    },
    discard() {
      const old = producer;
      producer = undefined;
      void old?.close().catch(() => undefined);
    },
  };
}

/** A group consumer that records every delivery of every id and commits after recording it. */
interface Sink {
  deliveries: Map<string, number>;
  restarts: number;
  stop(): Promise<void>;
}

async function kafkajsConsumer(topic: string, group: string): Promise<Sink> {
  const kafka = new Kafka({ clientId: 'torture-consumer', brokers: [BROKER], ...quiet });
  const consumer = kafka.consumer({ groupId: group, readUncommitted: false });
  const sink: Sink = { deliveries: new Map(), restarts: 0, stop: () => consumer.disconnect() };
  consumer.on(consumer.events.CRASH, () => sink.restarts++);
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
      if (batch.messages.length === 0) return;
      for (const m of batch.messages) {
        const id = (JSON.parse(m.value!.toString()) as { id: string }).id;
        sink.deliveries.set(id, (sink.deliveries.get(id) ?? 0) + 1);
      }
      const last = batch.messages[batch.messages.length - 1].offset;
      resolveOffset(last);
      await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }] });
      await heartbeat();
    },
  });
  return sink;
}

async function platformaticConsumer(plt: any, topic: string, group: string): Promise<Sink> {
  const sink: Sink = { deliveries: new Map(), restarts: 0, stop: async () => undefined };
  let stopped = false;
  let current: { consumer: any; stream: any } | undefined;
  // The stream ends with an error when the broker goes away; like kafkajs' restartOnFailure, a new
  // consumer then resumes from the group's committed offsets.
  const start = async (): Promise<void> => {
    while (!stopped) {
      try {
        const consumer = new plt.Consumer({ clientId: 'torture-consumer', groupId: group, bootstrapBrokers: [BROKER], deserializers: plt.stringDeserializers });
        const stream = await consumer.consume({
          topics: [topic],
          mode: plt.MessagesStreamModes.COMMITTED,
          fallbackMode: plt.MessagesStreamFallbackModes.EARLIEST,
          autocommit: false,
        });
        current = { consumer, stream };
        stream.on('data', (m: any) => {
          const id = (JSON.parse(m.value) as { id: string }).id;
          sink.deliveries.set(id, (sink.deliveries.get(id) ?? 0) + 1);
          m.commit().catch(() => undefined);
        });
        stream.once('error', () => {
          if (stopped) return;
          sink.restarts++;
          void Promise.allSettled([stream.close(), consumer.close(true)]).then(() => sleep(1000).then(start));
        });
        return;
      } catch {
        sink.restarts++;
        await sleep(1000);
      }
    }
  };
  await start();
  sink.stop = async () => {
    stopped = true;
    await current?.stream.close().catch(() => undefined);
    await current?.consumer.close(true).catch(() => undefined);
  };
  return sink;
}

/** Every id in the committed log, with how often it is there (kafkajs, read_committed, for every mode alike). */
async function readLog(topic: string, expected: number): Promise<Map<string, number>> {
  const kafka = new Kafka({ clientId: 'torture-reader', brokers: [BROKER], ...quiet });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((p) => p.high !== p.low).map((p) => [p.partition, BigInt(p.high)]));
  const counts = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: `torture-reader-${Date.now()}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  if (remaining.size === 0) done();
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const id = (JSON.parse(m.value!.toString()) as { id: string }).id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      // Transaction markers take offsets too: the partition is read once its high watermark is passed.
      if (BigInt(batch.highWatermark) <= BigInt(batch.lastOffset()) + 1n) remaining.delete(batch.partition);
      if (remaining.size === 0) done();
    },
  });
  await withTimeout(finished, 120_000, `reading ${topic} (${expected} ids expected)`);
  await consumer.disconnect();
  return counts;
}

interface Faults {
  pausedMs: number;
  killedAt?: number;
  answeringAgainMs?: number;
}

/** Broker paused for 6 s at 20 % of the offered load, then killed -9 and restarted at 55 %. */
async function injectFaults(durationMs: number, aborted: () => boolean): Promise<Faults> {
  const faults: Faults = { pausedMs: 0 };
  await sleep(durationMs * 0.2);
  if (aborted()) return faults;
  const pausedAt = Date.now();
  await infra('pause', 'kafka');
  log('kafka paused (SIGSTOP)');
  await sleep(6_000);
  await infra('resume', 'kafka');
  faults.pausedMs = Date.now() - pausedAt;
  log(`kafka resumed after ${faults.pausedMs} ms`);
  await sleep(Math.max(0, durationMs * 0.35 - faults.pausedMs));
  if (aborted()) return faults;
  faults.killedAt = Date.now();
  await infra('kill', 'kafka');
  log('kafka killed (-9)');
  await infra('up', 'kafka');
  faults.answeringAgainMs = Date.now() - faults.killedAt;
  log(`kafka answering again ${faults.answeringAgainMs} ms after the kill`);
  return faults;
}

async function runMode(name: string, run: string) {
  const mode = parseMode(name);
  const plt = mode.client === 'platformatic' ? await platformatic() : undefined;
  const topic = `torture.${run}.${name}`;
  const kafka = new Kafka({ clientId: 'torture-admin', brokers: [BROKER], ...quiet });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();

  const sink =
    mode.client === 'kafkajs' ? await kafkajsConsumer(topic, `torture-${run}-${name}`) : await platformaticConsumer(plt, topic, `torture-${run}-${name}`);
  const lanes = Array.from({ length: LANES }, (_, i) =>
    mode.client === 'kafkajs' ? kafkajsLane(mode, i, `${run}-${name}`) : platformaticLane(plt, mode, i, `${run}-${name}`),
  );

  const chunks: Record[][] = [];
  for (let i = 0; i < N; i += CHUNK)
    chunks.push(
      Array.from({ length: Math.min(CHUNK, N - i) }, (_, j) => {
        const id = `id-${String(i + j).padStart(7, '0')}`;
        return { key: `store-${(i + j) % 97}`, value: JSON.stringify({ id, sku: `SKU-${(i + j) % 5000}`, quantity: 1 }) };
      }),
    );
  const acked = new Set<string>();
  let failedAttempts = 0;
  let longestOutageMs = 0;
  const startedAt = Date.now();
  const durationMs = (N / RATE) * 1000;
  let producing = true;
  const faults = injectFaults(durationMs, () => !producing);

  let next = 0;
  await Promise.all(
    lanes.map(async (lane) => {
      while (next < chunks.length) {
        const index = next++;
        // Offered load: chunk i is due at i * CHUNK / RATE seconds.
        const due = startedAt + (index * CHUNK * 1000) / RATE;
        if (due > Date.now()) await sleep(due - Date.now());
        const firstTry = Date.now();
        for (let attempt = 1; ; attempt++) {
          try {
            await withTimeout(lane.send(topic, chunks[index]), ATTEMPT_TIMEOUT_MS, 'send');
            for (const r of chunks[index]) acked.add((JSON.parse(r.value) as { id: string }).id);
            longestOutageMs = Math.max(longestOutageMs, Date.now() - firstTry);
            break;
          } catch (error) {
            failedAttempts++;
            if (attempt % 10 === 0) log(`chunk ${index}: attempt ${attempt} failed: ${describe(error)}`);
            lane.discard();
            await sleep(Math.min(2000, 100 * attempt));
          }
        }
      }
    }),
  );
  producing = false;
  const producedMs = Date.now() - startedAt;
  const faultFigures = await faults;
  log(`${name}: ${acked.size} acknowledged in ${producedMs} ms, ${failedAttempts} failed attempts`);

  // The consumer has seen everything once every acknowledged id was delivered (or 120 s passed).
  const deadline = Date.now() + 120_000;
  while ([...acked].some((id) => !sink.deliveries.has(id)) && Date.now() < deadline) await sleep(500);
  await sink.stop();
  for (const lane of lanes) lane.discard();

  const inLog = await readLog(topic, acked.size);
  const count = (m: Map<string, number>) => {
    let duplicates = 0;
    let gaps = 0;
    for (const [, n] of m) duplicates += n - 1;
    for (const id of acked) if (!m.has(id)) gaps++;
    return { duplicates, gaps };
  };
  const log_ = count(inLog);
  const consumer = count(sink.deliveries);
  return {
    mode: name,
    acknowledged: acked.size,
    producedMs,
    failedAttempts,
    longestOutageMs,
    pausedMs: faultFigures.pausedMs,
    answeringAgainMs: faultFigures.answeringAgainMs,
    logDuplicates: log_.duplicates,
    logGaps: log_.gaps,
    unacknowledgedInLog: [...inLog.keys()].filter((id) => !acked.has(id)).length,
    consumerDuplicates: consumer.duplicates,
    consumerGaps: consumer.gaps,
    consumerRestarts: sink.restarts,
  };
}

async function main() {
  const status = await infra('status', 'kafka');
  if (!/ready/.test(status.stdout) || /not started by us/.test(status.stdout))
    throw new Error(`Kafka must be running and started by this checkout (npm run infra:up): ${status.stdout.trim()}`);
  const run = Date.now().toString(36);
  const results = [];
  for (const mode of MODES) {
    log(`--- ${mode}`);
    const r = await runMode(mode, run);
    console.log(JSON.stringify(r));
    results.push(r);
  }
  console.table(results);
  process.exit(0);
}

main().catch((error: Error) => {
  console.error(error);
  // Never leave the broker stopped for the next run.
  void infra('resume', 'kafka')
    .catch(() => undefined)
    .finally(() => process.exit(1));
});
