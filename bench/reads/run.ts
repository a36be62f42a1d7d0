/**
 * npm run bench:reads — GET /v1/stores/{id}/stock/{sku} through the compiled api against its fair
 * limit, bare Fastify with the same prepared SELECT (bare.ts), in the same run, under the same load
 * tool (wrk, 32 connections, random skus of one store), alternating the two twice. Then each at about
 * 80 % of its own maximum (wrk with a 2 ms pause between a connection's requests), for p50/p99 at that load. Needs `npm run build`, `npm run infra:up` and `wrk`
 * (apt-get install wrk). Settings: BENCH_READ_SECONDS (15), BENCH_READ_SKUS (1000).
 */
import 'reflect-metadata';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { types } from 'cassandra-driver';
import { createCassandraClient } from '@app/cassandra';

process.env.E2E_PORT_BASE ??= '4920';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- after E2E_PORT_BASE is set: the harness reads it on load
const { appUrl, killApp, startApp, waitReady } = require('@app/testing') as typeof import('@app/testing');

const ROOT = resolve(__dirname, '../..');
const SECONDS = Number(process.env.BENCH_READ_SECONDS ?? 15);
const SKUS = Number(process.env.BENCH_READ_SKUS ?? 1000);
const STORE = `bench-reads-${Date.now().toString(36)}`;
const BARE_PORT = 4929;
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

interface Load {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const path = (i: number) => `/v1/stores/${STORE}/stock/SKU-${i}`;

/** wrk's closed loop: 32 connections on 1 thread (the load tool takes as little of the 2 cores as it can). */
function wrk(base: string, seconds: number, extraLua = '', connections = 32): Load {
  const script = join(tmpdir(), `bench-reads-${process.pid}.lua`);
  writeFileSync(
    script,
    `math.randomseed(os.time())\n${extraLua}request = function() return wrk.format(nil, "/v1/stores/${STORE}/stock/SKU-" .. math.random(0, ${SKUS - 1})) end\n` +
      `done = function(summary, latency, requests)\n  io.write(string.format("JSON {\\"requests\\":%d,\\"seconds\\":%f,\\"p50\\":%f,\\"p99\\":%f,\\"errors\\":%d}\\n", summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))\nend\n`,
  );
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, base], { encoding: 'utf8' });
  const r = JSON.parse(/JSON (.*)/.exec(out)![1]) as { requests: number; seconds: number; p50: number; p99: number; errors: number };
  return { perSecond: r.requests / r.seconds, p50Ms: r.p50, p99Ms: r.p99, errors: r.errors };
}

/**
 * wrk again at about `rate` requests/s: each connection waits 2 ms between its requests (wrk's
 * `delay`, whole milliseconds), with as many connections as that rate needs at the latency seen at
 * the maximum; the achieved rate is what is reported.
 */
function throttled(base: string, rate: number, latencyMs: number, seconds: number): Load {
  const pauseMs = 2;
  const connections = Math.max(1, Math.round((rate * (pauseMs + latencyMs)) / 1000));
  return wrk(base, seconds, `delay = function() return ${pauseMs} end\n`, connections);
}

async function waitOk(url: string, child?: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child && child.exitCode !== null) throw new Error(`${url}: the server exited`);
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer`);
}

async function main(): Promise<void> {
  const cassandra = createCassandraClient({ contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1' });
  await cassandra.connect();
  const exists = await cassandra.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = 'stock' AND table_name = 'stock_levels'");
  if (exists.rowLength === 0) throw new Error('stock.stock_levels does not exist: start the system once (npm start) so process creates its tables');
  log(`seeding ${SKUS} levels of ${STORE}`);
  const now = new Date();
  for (let i = 0; i < SKUS; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, SKUS - i) }, (_, j) =>
        cassandra.execute('INSERT INTO stock.stock_levels (store_id, sku, quantity, updated_at) VALUES (?, ?, ?, ?)', [
          STORE,
          `SKU-${i + j}`,
          types.Long.fromNumber(i + j),
          now,
        ]),
      ),
    );
  }
  await cassandra.shutdown();

  startApp('api', { RATE_LIMIT_RPS: '0', LOG_FORMAT: 'json' });
  const bare = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(__dirname, 'bare.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(BARE_PORT) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitReady('api');
    await waitOk(`http://127.0.0.1:${BARE_PORT}${path(0)}`, bare);
    const targets = { system: appUrl('api'), bare: `http://127.0.0.1:${BARE_PORT}` };
    for (const base of Object.values(targets)) wrk(base, 10); // warm-up: JIT, prepared statements, connection pools
    const rounds: Record<'system' | 'bare', Load[]> = { system: [], bare: [] };
    for (let round = 0; round < 2; round++) {
      for (const name of ['bare', 'system'] as const) {
        const load = wrk(targets[name], SECONDS);
        rounds[name].push(load);
        log(`${name}: ${Math.round(load.perSecond)} req/s, p50 ${load.p50Ms.toFixed(1)} ms, p99 ${load.p99Ms.toFixed(1)} ms (wrk, 32 connections)`);
      }
    }
    const best = (loads: Load[]) => loads.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const max = { system: best(rounds.system), bare: best(rounds.bare) };
    const at80 = {} as Record<'system' | 'bare', Load>;
    for (const name of ['bare', 'system'] as const) {
      at80[name] = throttled(targets[name], 0.8 * max[name].perSecond, max[name].p50Ms, SECONDS);
      log(
        `${name} at 80 % of its max: ${Math.round(at80[name].perSecond)} req/s, p50 ${at80[name].p50Ms.toFixed(1)} ms, p99 ${at80[name].p99Ms.toFixed(1)} ms`,
      );
    }
    const results = { date: new Date().toISOString(), seconds: SECONDS, skus: SKUS, rounds, max, at80, ratio: max.system.perSecond / max.bare.perSecond };
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'reads-latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(
      [
        '| stock read, GET /v1/stores/{id}/stock/{sku} | system (api) | fair limit (bare Fastify, same SELECT) | ratio | goal |',
        '|---|---|---|---|---|',
        `| max req/s (wrk, 32 connections, best of 2) | ${Math.round(max.system.perSecond)} | ${Math.round(max.bare.perSecond)} | ${results.ratio.toFixed(2)}× | ≥ 0.8× |`,
        `| p99 at about 80 % of its own max (wrk, a 2 ms pause between a connection's requests) | ${at80.system.p99Ms.toFixed(1)} ms at ${Math.round(at80.system.perSecond)}/s | ${at80.bare.p99Ms.toFixed(1)} ms at ${Math.round(at80.bare.perSecond)}/s | | ≤ 10 ms |`,
        `| p50 at 80 % of its own max | ${at80.system.p50Ms.toFixed(1)} ms | ${at80.bare.p50Ms.toFixed(1)} ms | | |`,
      ].join('\n') + '\n',
    );
  } finally {
    bare.kill('SIGTERM');
    await killApp('api');
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
