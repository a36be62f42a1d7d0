import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Topics } from '@app/contracts';
import { createKafka } from '@app/messaging';
import {
  APP_NAMES,
  appUrl,
  eventsCsv,
  expectedLevels,
  groupOffsets,
  infra,
  itWhenControlledHere,
  killApp,
  levels,
  makeEvents,
  SentEvent,
  sendAllEvents,
  sendEvents,
  startApp,
  StockStore,
  waitFor,
  waitForGroupCaughtUp,
  waitForLevels,
  waitReady,
} from '@app/testing';

jest.setTimeout(300_000);

const ROOT = resolve(__dirname, '../../..');
type Admin = ReturnType<ReturnType<typeof createKafka>['admin']>;
const run = randomUUID().slice(0, 8);
const STORES: Record<'one' | 'two' | 'three', StockStore> = {
  one: { store: 'store-1', key: 'dev-key-store-1' },
  two: { store: 'store-2', key: 'dev-key-store-2' },
  three: { store: 'store-3', key: 'dev-key-store-3' },
};
const itWithKafka = itWhenControlledHere('kafka', 'Kafka');
const itWithCassandra = itWhenControlledHere('cassandra', 'Cassandra');

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const n = (value: number) => value.toLocaleString('en-US');
const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));
const skusOf = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

/** One answer of ingest to one request: its status (or a failed connection) and the events it carried. */
type Outcome = { status: number | 'network error'; events: SentEvent[]; sentAt?: number; answeredAt?: number };

/** Sends `events` in chunks from `clients` concurrent clients, each chunk retried until 202; records every answer. */
async function uploadWithRetries(
  to: StockStore,
  events: SentEvent[],
  chunk: number,
  clients: number,
  onAnswer: (o: Outcome) => void = () => {},
): Promise<SentEvent[]> {
  const chunks: SentEvent[][] = [];
  for (let i = 0; i < events.length; i += chunk) chunks.push(events.slice(i, i + chunk));
  const acknowledged: SentEvent[] = [];
  const short: string[] = [];
  const client = async () => {
    for (let c = chunks.shift(); c; c = chunks.shift()) {
      const batch = c;
      await waitFor(
        'a chunk to be accepted',
        async () => {
          const response = await sendEvents(to, batch).catch(() => undefined);
          const status = response?.status ?? 'network error';
          onAnswer({ status, events: batch });
          if (status !== 202) return false;
          const body = (await response!.json()) as { accepted: number };
          if (body.accepted !== batch.length) short.push(`202 with accepted ${body.accepted} of ${batch.length}`);
          acknowledged.push(...batch);
          return true;
        },
        { timeoutMs: 180_000, intervalMs: 300 },
      );
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  expect(short).toEqual([]);
  return acknowledged;
}

describe('stock pipeline under server faults (real servers)', () => {
  let admin: Admin;
  let upload: ChildProcess | undefined;
  const scratch = mkdtempSync(join(tmpdir(), `stock-faults-${run}-`));

  beforeAll(async () => {
    admin = createKafka({ clientId: `e2e-faults-${run}`, brokers: ['127.0.0.1:9092'] }).admin();
    await waitFor('the Kafka admin to connect', () => admin.connect().then(() => true), { timeoutMs: 60_000, intervalMs: 1000 });
  });

  afterAll(async () => {
    if (upload && upload.exitCode === null && upload.pid) {
      try {
        process.kill(-upload.pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    // Leave the shared system as found: every server running and answering, every app ready.
    for (const server of ['kafka', 'cassandra'] as const) {
      try {
        infra('resume', server);
      } catch {
        /* not paused, or not running: `up` below starts it */
      }
    }
    infra('up', 'kafka', 'cassandra');
    for (const name of APP_NAMES) {
      const alive = await fetch(`${appUrl(name)}/health/live`).then(
        () => true,
        () => false,
      );
      if (!alive) startApp(name);
    }
    await Promise.all(APP_NAMES.map((name) => waitReady(name, 180_000)));
    await admin.disconnect().catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('kill -9 of ingest three times during a CLI upload: the CLI exits 0 and every level equals the file', async () => {
    const to = STORES.one;
    const prefix = `PF1-${run}-`;
    const skus = skusOf(prefix, 300);
    const events = makeEvents(60_000, skus, `${run}-k`);
    const file = join(scratch, 'upload.csv');
    writeFileSync(file, eventsCsv(events));
    const started = Date.now();

    // Kill on progress, not on time: each ingest instance is killed once it has taken a few thousand of the file's events.
    const acceptedByIngest = async () =>
      Number(/stock_events_ingested_total\{outcome="accepted"[^}]*\} (\d+)/.exec(await (await fetch(`${appUrl('ingest')}/metrics`)).text())?.[1] ?? 0);
    let before = await acceptedByIngest();
    let output = '';
    upload = spawn(
      'npm',
      ['run', '--silent', 'upload', '--', '--store', to.store, '--key', to.key, '--url', appUrl('ingest'), '--chunk', '1000', '--concurrency', '2', file],
      {
        cwd: ROOT,
        env: { ...process.env, INGEST_URL: appUrl('ingest') },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    upload.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    upload.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-100_000)));
    const exited = new Promise<number | null>((done) => upload!.once('exit', (code) => done(code)));
    let kills = 0;
    for (let i = 0; i < 3 && upload.exitCode === null; i++) {
      const threshold = before + randomInt(1000, 6000);
      await waitFor('ingest to take more of the upload', async () => upload!.exitCode !== null || (await acceptedByIngest()) >= threshold, {
        timeoutMs: 120_000,
        intervalMs: 50,
      });
      if (upload.exitCode !== null) break;
      await killApp('ingest', 'SIGKILL');
      kills++;
      startApp('ingest');
      await waitReady('ingest');
      before = 0; // a new instance counts from 0
    }
    const code = await exited;
    const uploaded = Date.now();
    expect({ code, tail: code === 0 ? '' : output.slice(-2000) }).toEqual({ code: 0, tail: '' });
    expect(kills).toBe(3);
    const summary = /(\d+) events sent in [\d.]+ s .*: (\d+) accepted, (\d+) rejected/.exec(output);
    expect(summary?.slice(1).map(Number)).toEqual([events.length, events.length, 0]);

    const expected = expectedLevels(events);
    await waitForLevels(to, prefix, expected, 180_000, { exact: true });
    console.log(
      `stock faults: ingest kill -9 ×${kills} during ${n(events.length)}-event CLI upload (${skus.length} skus); ${n(Number(summary![2]))} acknowledged, ` +
        `${(output.match(/retrying lines/g) ?? []).length} retried requests, upload ${seconds(uploaded - started)}; levels of ${expected.size} skus exact after ${seconds(Date.now() - started)}`,
    );
  });

  itWithKafka('kill -9 of Kafka while 4 clients upload with retries: every acknowledged event counted once, none lost', async () => {
    const to = STORES.two;
    const prefix = `PF2-${run}-`;
    const events = makeEvents(20_000, skusOf(prefix, 200), `${run}-kk`);
    const answers = new Map<string, number>();
    const count = (o: Outcome) => answers.set(String(o.status), (answers.get(String(o.status)) ?? 0) + 1);
    const started = Date.now();
    let acked = 0;
    const uploading = uploadWithRetries(to, events, 250, 4, (o) => {
      count(o);
      if (o.status === 202) acked += o.events.length;
    });
    await waitFor('a third of the events to be acknowledged', () => acked >= events.length / 3, { timeoutMs: 120_000, intervalMs: 50 });
    const ackedBeforeKill = acked;
    infra('kill', 'kafka');
    const killedAt = Date.now();
    await pause(3000); // Kafka stays dead this long, so the clients meet it
    const deadFor = Date.now() - killedAt;
    infra('up', 'kafka');
    const upAfter = Date.now() - killedAt;
    const all = await uploading;
    const uploaded = Date.now();

    expect(new Set(all.map((e) => e.eventId)).size).toBe(events.length);
    const expected = expectedLevels(all);
    expect(expected).toEqual(expectedLevels(events));
    await waitForLevels(to, prefix, expected, 180_000, { exact: true });
    console.log(
      `stock faults: Kafka kill -9 ×1 after ${n(ackedBeforeKill)} of ${n(events.length)} events acknowledged (4 clients, retries); Kafka dead ${seconds(deadFor)}, answering again ${seconds(upAfter)} after the kill; ` +
        `answers ${[...answers].map(([s, c]) => `${s}×${c}`).join(', ')}; ${n(all.length)} acknowledged, upload ${seconds(uploaded - started)}; ` +
        `levels of ${expected.size} skus exact after ${seconds(Date.now() - started)}`,
    );
  });

  itWithKafka('Kafka frozen (SIGSTOP) for 20 s while 5 clients upload without retries: every answer is 503 or a true 202, none lost', async () => {
    const to = STORES.three;
    const prefix = `PF3-${run}-`;
    const PER_REQUEST = 50;
    // One sku per request, every event a delivery of 1: a request's level is the number of its events that were counted.
    let next = 0;
    const requestEvents = (r: number): SentEvent[] =>
      Array.from({ length: PER_REQUEST }, (_, i) => ({
        eventId: `${run}-p${r}-${i}`,
        sku: `${prefix}${String(r).padStart(4, '0')}`,
        type: 'delivery',
        quantity: 1,
        occurredAt: new Date(Date.UTC(2024, 0, 1)).toISOString(),
      }));
    const outcomes: Outcome[] = [];
    let stop = false;
    let pausedAt = Infinity;
    let resumedAt = Infinity;
    let okAfterResume = 0;
    const client = async () => {
      while (!stop) {
        const batch = requestEvents(next++);
        const sentAt = Date.now();
        const response = await sendEvents(to, batch).catch(() => undefined);
        const status = response?.status ?? 'network error';
        if (response) await response.arrayBuffer();
        outcomes.push({ status, events: batch, sentAt, answeredAt: Date.now() });
        if (status === 202 && Date.now() > resumedAt) okAfterResume++;
        await pause(150); // no retry: the next request carries new events
      }
    };
    const started = Date.now();
    const clients = Array.from({ length: 5 }, client);
    await waitFor('some requests to be acknowledged before the freeze', () => outcomes.filter((o) => o.status === 202).length >= 10, {
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    infra('pause', 'kafka');
    pausedAt = Date.now();
    try {
      await pause(20_000); // the fault's duration
    } finally {
      infra('resume', 'kafka');
      resumedAt = Date.now();
    }
    await waitFor('ingest to acknowledge requests again after the resume', () => okAfterResume >= 10, { timeoutMs: 120_000, intervalMs: 100 });
    stop = true;
    await Promise.all(clients);

    const byStatus = new Map<string, Outcome[]>();
    for (const o of outcomes) byStatus.set(String(o.status), [...(byStatus.get(String(o.status)) ?? []), o]);
    const ok = byStatus.get('202') ?? [];
    const unavailable = byStatus.get('503') ?? [];
    expect([...byStatus.keys()].filter((s) => s !== '202' && s !== '503')).toEqual([]);
    expect(unavailable.length).toBeGreaterThan(0);

    // Settled: process has consumed everything Kafka holds now.
    await waitForGroupCaughtUp(admin, 'process', Topics.StockEvents, 180_000);
    const expected = new Map(ok.map((o) => [o.events[0].sku, PER_REQUEST]));
    const actual = await waitForLevels(to, prefix, expected, 120_000);
    const relative = (at: number) => `${at >= pausedAt ? '+' : ''}${((at - pausedAt) / 1000).toFixed(1)} s`;
    const counted503 = unavailable
      .filter((o) => actual.has(o.events[0].sku))
      .map((o) => `${o.events[0].sku}=${actual.get(o.events[0].sku)!.quantity} (sent ${relative(o.sentAt!)}, 503 at ${relative(o.answeredAt!)} of the freeze)`);
    const settled = Date.now();
    console.log(
      `stock faults: Kafka SIGSTOP ${seconds(resumedAt - pausedAt)} during upload by 5 clients, no retries; ${outcomes.length} requests of ${PER_REQUEST} events: ` +
        `${ok.length}×202, ${unavailable.length}×503; ${counted503.length} of the 503 requests were counted anyway${counted503.length ? ` (e.g. ${counted503.slice(0, 3).join(', ')})` : ''}; ` +
        `levels settled ${seconds(settled - resumedAt)} after resume, ${seconds(settled - started)} in all`,
    );

    // A store then resends what got 503: now every request counts exactly once.
    await uploadWithRetries(
      to,
      unavailable.flatMap((o) => o.events),
      PER_REQUEST,
      4,
    );
    const all = new Map([...ok, ...unavailable].map((o) => [o.events[0].sku, PER_REQUEST]));
    await waitForLevels(to, prefix, all, 120_000, { exact: true });
    console.log(
      `stock faults: after resending the ${unavailable.length} 503 requests, all ${all.size} request levels are exactly ${PER_REQUEST} (${seconds(Date.now() - settled)})`,
    );

    // A 503 says the events were not acknowledged: none of them is in `accepted`, and resending is
    // safe. Their outcome is unknown, though: a produce request already in the frozen broker's socket
    // is written when it resumes. So a 503 request counts all its events or none (one sku, one
    // partition, one record batch), never some, never twice; and a 202 request counts all of them.
    const partial = unavailable
      .map((o) => [o.events[0].sku, actual.get(o.events[0].sku)?.quantity ?? 0] as const)
      .filter(([, quantity]) => quantity !== 0 && quantity !== PER_REQUEST);
    expect(partial).toEqual([]);
  });

  itWithCassandra('Cassandra frozen for 30 s while process consumes: no offset committed past failed writes, levels exact afterwards', async () => {
    const to = STORES.one;
    const prefix = `PF4-${run}-`;
    const skus = skusOf(prefix, 200);
    let i = 0;
    const acknowledged: SentEvent[] = [];
    let stop = false;
    const sender = (async () => {
      while (!stop) {
        const batch = makeEvents(100, skus, `${run}-c${i++}`);
        acknowledged.push(...(await uploadWithRetries(to, batch, 100, 1)));
        await pause(150); // a steady stream of stores' uploads, not a flood
      }
    })();
    const started = Date.now();
    await waitFor('events to flow', () => acknowledged.length >= 1000, { timeoutMs: 60_000, intervalMs: 50 });
    infra('pause', 'cassandra');
    const pausedAt = Date.now();
    let first: Awaited<ReturnType<typeof groupOffsets>>;
    let second: Awaited<ReturnType<typeof groupOffsets>>;
    let sentDuringOutage: number;
    try {
      // A batch whose writes were done before the freeze may still commit in the first moments.
      await pause(5000);
      first = await groupOffsets(admin, 'process', Topics.StockEvents);
      const ackedAtFirst = acknowledged.length;
      await pause(20_000);
      second = await groupOffsets(admin, 'process', Topics.StockEvents);
      sentDuringOutage = acknowledged.length - ackedAtFirst;
      await pause(Math.max(0, 30_000 - (Date.now() - pausedAt))); // the fault's duration
    } finally {
      infra('resume', 'cassandra');
    }
    const resumedAt = Date.now();
    await pause(3000); // events keep arriving after the resume too
    stop = true;
    await sender;

    const endsGrew = second.reduce((sum, p, k) => sum + Number(p.end - first[k].end), 0);
    const committedMoved = second
      .map((p, k) => (p.committed !== first[k].committed ? `p${p.partition}: ${first[k].committed}→${p.committed}` : ''))
      .filter(Boolean);
    expect(endsGrew).toBeGreaterThan(0);
    expect(committedMoved).toEqual([]);

    const expected = expectedLevels(acknowledged);
    await waitForLevels(to, prefix, expected, 180_000, { exact: true });
    console.log(
      `stock faults: Cassandra SIGSTOP ${seconds(resumedAt - pausedAt)} while ${n(acknowledged.length)} events were uploaded (${n(sentDuringOutage)} acknowledged between the two offset reads); ` +
        `topic end offsets grew by ${n(endsGrew)} while committed offsets of group process stayed put over ${seconds(20_000)}; ` +
        `levels of ${expected.size} skus exact ${seconds(Date.now() - resumedAt)} after resume (${seconds(Date.now() - started)} in all)`,
    );
  });

  it('re-uploading 10 % of a store’s events after its levels settled changes no level', async () => {
    const to = STORES.two;
    const prefix = `PF5-${run}-`;
    const events = makeEvents(5000, skusOf(prefix, 100), `${run}-r`);
    const started = Date.now();
    await sendAllEvents(to, events, 1000, 2);
    const expected = expectedLevels(events);
    const before = await waitForLevels(to, prefix, expected, 120_000, { exact: true });

    const again = events.filter(() => randomInt(10) === 0);
    const response = await sendEvents(to, again);
    expect(response.status).toBe(202);
    expect(((await response.json()) as { accepted: number }).accepted).toBe(again.length);
    await waitForGroupCaughtUp(admin, 'process', Topics.StockEvents);
    const after = await levels(to, prefix);
    expect(after).toEqual(before);
    console.log(
      `stock faults: re-upload of ${n(again.length)} of ${n(events.length)} events (${expected.size} skus) after settling; process consumed past them, ` +
        `no level or updatedAt changed (${seconds(Date.now() - started)})`,
    );
  });
});
