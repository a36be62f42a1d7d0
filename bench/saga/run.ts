/*
 * npm run bench:saga — purchases/s and p50/p99 from POST to terminal status through the running
 * system (api → account → shop → account), against, in the same run and on the same broker:
 *   the limit: a raw amqplib chain with the same hops and guarantees (limit.ts),
 *   the naive peer: the same business steps (debit, reserve, complete or refund) with naive Cassandra
 *   read-modify-writes, in Nest microservices calling each other with ClientProxy.send on default RMQ settings (peer.ts),
 *   the fair limit: the same four hops on raw amqplib with the product's queue settings, behind a bare node:http edge
 *   (POST, long-poll GET), with the minimal durable writes (purchase, balance, stock: plain writes by one writer per key) (fair-limit.ts).
 * Settings: BENCH_PURCHASES (default 2000), BENCH_CONCURRENCY (32), E2E_PORT_BASE (the apps' ports, 4200),
 * RABBITMQ_URL, CASSANDRA_CONTACT_POINTS, CASSANDRA_LOCAL_DC; BENCH_SYSTEM_ONLY=1 measures the system alone. Apps are started from dist/ (run `npm run build` first) and stopped at the end.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_NAMES, appUrl, killApp, startApp, waitReady } from '@app/testing';
import { fairLimit } from './fair-limit';
import { rawChain } from './limit';
import { nestPeer } from './peer';

const PURCHASES = Number(process.env.BENCH_PURCHASES ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const PREFETCH = 32;
const CASSANDRA_CONTACT_POINTS = (process.env.CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:9042').split(',');
const CASSANDRA_DC = process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1';

interface Result {
  name: string;
  operations: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Closed loop: CONCURRENCY clients, each starting its next operation when the last one finished. */
async function measure(name: string, total: number, once: () => Promise<number | void>): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        next++;
        const t0 = performance.now();
        const measured = await once();
        latencies.push(typeof measured === 'number' ? measured : performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const result = { name, operations: total, seconds, perSecond: total / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
  process.stdout.write(
    `${name.padEnd(8)} ${result.perSecond.toFixed(1).padStart(8)} ops/s  p50 ${result.p50Ms.toFixed(1)} ms  p99 ${result.p99Ms.toFixed(1)} ms\n`,
  );
  return result;
}

async function http(method: string, path: string, token?: string, body?: unknown): Promise<any> {
  const response = await fetch(`${appUrl('api')}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function system(): Promise<Result> {
  for (const name of APP_NAMES) startApp(name, name === 'api' ? { RATE_LIMIT_RPS: '0' } : {});
  await Promise.all(APP_NAMES.map((name) => waitReady(name)));
  const admin = (await http('POST', '/v1/auth/login', undefined, { email: 'admin@example.com', password: 'admin-password' })).accessToken;
  const run = Math.random().toString(36).slice(2, 8);
  const sku = `BENCH-${run}`;
  await http('POST', '/v1/admin/items', admin, { sku, name: 'Bench item', price: 1, quantity: (PURCHASES + 200) * 2 });
  const buyers = await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      const email = `bench-${run}-${i}@example.test`;
      const { id } = await http('POST', '/v1/accounts', undefined, { email, password: 'bench-password', name: 'Bench' });
      await http('POST', `/v1/admin/accounts/${id}/credit`, admin, { amount: (PURCHASES + 200) * 10 });
      return (await http('POST', '/v1/auth/login', undefined, { email, password: 'bench-password' })).accessToken as string;
    }),
  );
  let turn = 0;
  // Where the time goes (one clock: all on this machine): to account's insert, insert → 202, insert → COMPLETED, COMPLETED → client.
  const phases: number[][] = [];
  const once = async () => {
    const token = buyers[turn++ % buyers.length];
    const sentAt = Date.now();
    const { purchaseId } = await http('POST', '/v1/purchases', token, { sku, quantity: 1 });
    const acceptedAt = Date.now();
    // A long poll: answered as soon as account records the terminal status (no polling interval in the figures).
    for (;;) {
      const p = await http('GET', `/v1/purchases/${purchaseId}?waitMs=3000`, token);
      if (p.status === 'PENDING') continue;
      if (p.status !== 'COMPLETED') throw new Error(`purchase ${purchaseId} ended ${p.status}: ${p.reason}`);
      const created = Date.parse(p.createdAt);
      const finished = Date.parse(p.updatedAt);
      phases.push([created - sentAt, acceptedAt - created, finished - created, Date.now() - finished]);
      return;
    }
  };
  // Warm-up as for the others: connections, prepared statements, JIT.
  await measure('warm-up', 200, once);
  phases.length = 0;
  const result = await measure('system', PURCHASES, once);
  const median = (i: number) =>
    percentile(
      phases.map((p) => p[i]).sort((a, b) => a - b),
      50,
    );
  process.stdout.write(
    `system phases, medians: POST → account insert ${median(0)} ms, insert → 202 ${median(1)} ms, insert → COMPLETED ${median(2)} ms, COMPLETED → client ${median(3)} ms\n`,
  );
  return result;
}

async function main(): Promise<void> {
  process.stdout.write(`saga bench: ${PURCHASES} operations, ${CONCURRENCY} concurrent clients\n`);
  if (process.env.BENCH_SYSTEM_ONLY === '1') {
    // For profiling the system alone; no comparison, no results file.
    try {
      await system();
    } finally {
      await Promise.all(APP_NAMES.map((name) => killApp(name, 'SIGTERM').catch(() => killApp(name, 'SIGKILL'))));
    }
    return;
  }
  const limitChain = await rawChain(RABBITMQ_URL, PREFETCH);
  await measure('warm-up', 200, () => limitChain.once());
  const limit = await measure('limit', PURCHASES * 5, () => limitChain.once());
  await limitChain.close();

  const peerChain = await nestPeer(RABBITMQ_URL, {
    contactPoints: CASSANDRA_CONTACT_POINTS,
    localDataCenter: CASSANDRA_DC,
    buyers: CONCURRENCY,
    stock: (PURCHASES + 200) * 2,
    credit: (PURCHASES + 200) * 10,
  });
  await measure('warm-up', 200, () => peerChain.once());
  const peer = await measure('peer', PURCHASES, () => peerChain.once());
  const peerAudit = await peerChain.audit(PURCHASES + 200);
  process.stdout.write(`peer audit (lost updates of its read-modify-writes): ${JSON.stringify(peerAudit)}\n`);
  await peerChain.close();

  const fairChain = await fairLimit(RABBITMQ_URL, PREFETCH, {
    contactPoints: CASSANDRA_CONTACT_POINTS,
    localDataCenter: CASSANDRA_DC,
    buyers: CONCURRENCY,
    stock: (PURCHASES + 200) * 2,
    credit: (PURCHASES + 200) * 10,
  });
  let fair: Result;
  let fairAudit: Awaited<ReturnType<typeof fairChain.audit>>;
  try {
    await measure('warm-up', 200, () => fairChain.once());
    fair = await measure('fair', PURCHASES, () => fairChain.once());
    fairAudit = await fairChain.audit(PURCHASES + 200);
  } finally {
    await fairChain.close();
  }
  process.stdout.write(`fair audit (its single writers should lose nothing): ${JSON.stringify(fairAudit)}\n`);

  let ours: Result;
  try {
    ours = await system();
  } finally {
    // A graceful stop first; an app that will not stop in time is killed (the bench must end).
    await Promise.all(APP_NAMES.map((name) => killApp(name, 'SIGTERM').catch(() => killApp(name, 'SIGKILL'))));
  }
  const summary = {
    at: new Date().toISOString(),
    purchases: PURCHASES,
    concurrency: CONCURRENCY,
    results: [ours, limit, peer, fair],
    fair,
    peerAudit,
    fairAudit,
    ratios: {
      systemVsLimit: ours.perSecond / limit.perSecond,
      systemVsPeer: ours.perSecond / peer.perSecond,
      systemVsFair: ours.perSecond / fair.perSecond,
    },
  };
  process.stdout.write(
    `system / limit = ${summary.ratios.systemVsLimit.toFixed(3)} (goal ≥ 0.5); system / peer = ${summary.ratios.systemVsPeer.toFixed(3)} (goal ≥ 3)\n`,
  );
  process.stdout.write(
    `system / fair = ${summary.ratios.systemVsFair.toFixed(3)} (goal ≥ 0.3); system p99 ${ours.p99Ms.toFixed(1)} ms at ${CONCURRENCY} clients (goal ≤ 250 ms)\n`,
  );
  const dir = join(__dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `saga-${summary.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(summary, null, 2));
  process.stdout.write(`results: ${file}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench:saga failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
