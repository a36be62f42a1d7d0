#!/usr/bin/env node
// Local infrastructure without Docker: Kafka, Cassandra, RabbitMQ, Redis and MailDev on 127.0.0.1.
//   node scripts/infra/infra.mjs up|down|status|reset [server...]
//   node scripts/infra/infra.mjs restart server...        (down, then up; only servers we started)
//   node scripts/infra/infra.mjs pause|resume server...   (SIGSTOP / SIGCONT, for fault tests)
//   node scripts/infra/infra.mjs kill server...           (SIGKILL, a crash; only servers we started)
// Servers: cassandra, kafka, rabbitmq, redis, maildev (default: all). State lives in .infra/.
// RabbitMQ and Redis may be running already (system services): used, never stopped or paused.
import path from 'node:path';
import { REPO_ROOT } from './paths.mjs';
import { tail } from './proc.mjs';
import { InfraError, SERVER_NAMES, down, kill, notStartedByUs, pause, reset, resume, status, up } from './servers.mjs';

const SERVERS = SERVER_NAMES.join('|');
const USAGE = [
  `usage: node scripts/infra/infra.mjs <up|down|status> [${SERVERS} ...]`,
  '       node scripts/infra/infra.mjs reset',
  `       node scripts/infra/infra.mjs <restart|pause|resume|kill> <${SERVERS}> ...`,
].join('\n');
const LOG_TAIL_LINES = 40;

const pad = (text) => text.padEnd(10);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const rel = (file) => path.relative(REPO_ROOT, file);

function printUpResult(res) {
  if (res.ok) {
    const how = {
      started: `started, pid ${res.pid}`,
      running: `already running, pid ${res.pid}`,
      resumed: `was paused, resumed, pid ${res.pid}`,
      external: `running, not started by us${res.pid ? `, pid ${res.pid}` : ''}`,
    }[res.action];
    console.log(`${pad(res.name)} ready in ${seconds(res.ms)} (${how}; ${res.detail})`);
    return;
  }
  console.error(`${pad(res.name)} FAILED: ${res.error}`);
  if (!res.logPath) return;
  const lines = tail(res.logPath, LOG_TAIL_LINES);
  console.error(
    lines ? `--- last ${LOG_TAIL_LINES} lines of ${rel(res.logPath)} ---\n${lines}\n--- end of ${rel(res.logPath)} ---` : `(${rel(res.logPath)} is empty)`,
  );
  if (res.logHint) console.error(`(${res.logHint})`);
}

async function cmdUp(names) {
  const started = Date.now();
  try {
    await up(names, { onResult: printUpResult });
    console.log(`all ready in ${seconds(Date.now() - started)}`);
    return 0;
  } catch (err) {
    if (!(err instanceof InfraError) || !err.results) throw err;
    const failed = err.results.filter((r) => !r.ok).map((r) => r.name);
    console.error(`infra up failed: ${failed.join(', ')}`);
    return 1;
  }
}

function printStopped(results) {
  for (const r of results) {
    const pid = r.pid ? `, pid ${r.pid}` : '';
    const took = r.ms ? ` in ${seconds(r.ms)}` : '';
    console.log(`${pad(r.name)} ${r.action}${pid}${took}`);
  }
}

async function cmdStatus(names) {
  for (const s of await status(names)) {
    const state = s.running ? `running  pid ${String(s.pid ?? '?').padEnd(7)}` : 'stopped';
    const owner = s.running && !s.ours ? ' (not started by us)' : '';
    // Scripts grep these lines for ' ready': the other case must not contain that word.
    let ready = '';
    if (s.paused) ready = '  paused (SIGSTOP)';
    else if (s.running) ready = s.ready ? `  ready (${s.detail})` : `  not answering (${s.detail})`;
    console.log(`${pad(s.name)} ${state}${ready}${owner}`);
  }
  return 0;
}

async function main([command, ...names]) {
  switch (command) {
    case 'up':
      return cmdUp(names);
    case 'down':
      printStopped(await down(names));
      return 0;
    case 'status':
      return cmdStatus(names);
    case 'restart': {
      if (names.length === 0) throw new InfraError(null, `restart needs server names\n${USAGE}`);
      const foreign = notStartedByUs(names);
      if (foreign.length > 0) {
        throw new InfraError(null, `${foreign.join(', ')}: running, not started by us: not restarted (only what this script started is stopped)`);
      }
      printStopped(await down(names));
      return cmdUp(names);
    }
    case 'pause':
    case 'resume':
      if (names.length === 0) throw new InfraError(null, `${command} needs server names\n${USAGE}`);
      for (const name of names) {
        const pid = (command === 'pause' ? pause : resume)(name);
        console.log(`${pad(name)} ${command === 'pause' ? 'paused (SIGSTOP)' : 'resumed (SIGCONT)'}, pid ${pid}`);
      }
      return 0;
    case 'kill':
      if (names.length === 0) throw new InfraError(null, `kill needs server names\n${USAGE}`);
      for (const name of names) printStopped([await kill(name)]);
      return 0;
    case 'reset':
      if (names.length > 0) throw new InfraError(null, 'reset takes no server names: it resets everything');
      printStopped(await reset());
      console.log('wiped .infra/data');
      return 0;
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  // Exit explicitly: a client of a probe that timed out may still hold a socket open.
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof InfraError ? err.message : err);
    process.exit(1);
  },
);
