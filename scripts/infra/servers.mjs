// Programmatic control of the local servers, for scripts/infra/infra.mjs and for tests:
//   up(names), down(names), status(names), isReady(name), reset(), pause(name), resume(name),
//   kill(name), notStartedByUs(names).
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR, RUN_DIR, STATE_DIR, logFile, pidFile } from './paths.mjs';
import { isAlive, livePidFromFile, portOwner, processState, signal, sleep, spawnDetached, stopPid } from './proc.mjs';
import cassandra from './servers/cassandra.mjs';
import kafka from './servers/kafka.mjs';
import maildev from './servers/maildev.mjs';
import rabbitmq from './servers/rabbitmq.mjs';
import redis from './servers/redis.mjs';

/** Slowest first: in `up`, Cassandra's libraries are copied and its JVM started first. */
const SERVERS = { cassandra, kafka, rabbitmq, redis, maildev };
export const SERVER_NAMES = Object.keys(SERVERS);

const PROBE_TIMEOUT_MS = 3_000;
const POLL_MS = 500;

export class InfraError extends Error {
  /** `foreign`: about a process that is not ours, so our log of that server tells nothing. */
  constructor(server, message, { results, foreign = false } = {}) {
    super(server ? `${server}: ${message}` : message);
    this.server = server;
    this.reason = message;
    this.results = results;
    this.foreign = foreign;
  }
}

function definition(name) {
  const def = SERVERS[name];
  if (!def) throw new InfraError(null, `unknown server "${name}" (known: ${SERVER_NAMES.join(', ')})`);
  return def;
}

function resolveNames(names) {
  const list = names === undefined || names.length === 0 ? SERVER_NAMES : [names].flat();
  list.forEach(definition);
  return [...new Set(list)];
}

/** Pid of the running instance this script started, or null (stale pid files are removed). */
function ownedPid(def) {
  return def.ownedPid ? def.ownedPid() : livePidFromFile(pidFile(def.name), def.marker);
}

/** Pid to signal: ours, or for a shared server (RabbitMQ, Redis) whoever listens on its port. */
function runningPid(def) {
  return ownedPid(def) ?? (def.shared ? (portOwner(def.ports[0])?.pid ?? null) : null);
}

const isPaused = (pid) => processState(pid) === 'T';

async function probeOnce(def, timeoutMs = PROBE_TIMEOUT_MS) {
  try {
    return { ready: true, detail: await def.probe(timeoutMs) };
  } catch (err) {
    return { ready: false, detail: err.message?.split('\n')[0] || String(err) };
  }
}

/** Polls the real client check until it passes, the process dies, or the deadline passes. */
async function waitReady(def, { pid, child, deadline }) {
  let exit = null;
  child?.once('exit', (code, sig) => {
    exit = sig ?? `exit code ${code}`;
  });
  for (;;) {
    const attempt = await probeOnce(def, Math.max(500, Math.min(PROBE_TIMEOUT_MS, deadline - Date.now())));
    if (attempt.ready) return attempt.detail;
    if (exit || (pid && !isAlive(pid))) {
      throw new InfraError(def.name, `process ${pid} exited (${exit ?? 'gone'}) before it was ready`);
    }
    if (Date.now() >= deadline) {
      throw new InfraError(def.name, `not ready after ${def.readyTimeoutMs / 1000} s (last check: ${attempt.detail})`);
    }
    await sleep(POLL_MS);
  }
}

function describeOwner(port, owner) {
  const who = owner.pid ? `pid ${owner.pid} (${owner.command.slice(0, 120) || '?'})` : 'a process we cannot see';
  return `port ${port} is held by ${who}`;
}

async function upOne(def) {
  const started = Date.now();
  const result = (fields) => ({ name: def.name, ms: Date.now() - started, logPath: logFile(def.name), ...fields });

  let pid = ownedPid(def);
  if (pid) {
    const resumed = isPaused(pid) && signal(pid, 'SIGCONT');
    const detail = await waitReady(def, { pid, deadline: started + def.readyTimeoutMs });
    return result({ ok: true, action: resumed ? 'resumed' : 'running', pid, detail });
  }

  // Not running as ours: whatever holds its ports must answer as that server, or we stop here.
  const held = def.ports.map((port) => [port, portOwner(port)]).filter(([, owner]) => owner);
  if (held.length > 0) {
    const attempt = await probeOnce(def);
    const [port, owner] = held[0];
    if (!attempt.ready) {
      throw new InfraError(def.name, `${describeOwner(port, owner)}, which does not answer as ${def.name}: ${attempt.detail}`, { foreign: true });
    }
    // Ours after all (the pid file was lost): its command line points into .infra/.
    if (!def.shared && owner.pid && owner.command.includes(STATE_DIR) && owner.command.includes(def.marker)) {
      mkdirSync(RUN_DIR, { recursive: true });
      writeFileSync(pidFile(def.name), `${owner.pid}\n`);
      return result({ ok: true, action: 'running', pid: owner.pid, detail: attempt.detail });
    }
    return result({ ok: true, action: 'external', pid: owner.pid, detail: attempt.detail });
  }

  await def.prepare?.();
  let child = null;
  if (def.launch) {
    pid = await def.launch();
  } else {
    child = spawnDetached({ ...def.command(), logPath: logFile(def.name), pidPath: pidFile(def.name) });
    pid = child.pid;
  }
  try {
    const detail = await waitReady(def, { pid, child, deadline: started + def.readyTimeoutMs });
    return result({ ok: true, action: 'started', pid: pid ?? runningPid(def), detail });
  } catch (err) {
    // Leave nothing half-started behind: the next `up` starts afresh.
    await stopOne(def).catch(() => {});
    throw err;
  }
}

/**
 * Starts the named servers (default: all) in parallel, or checks those already running, and
 * resolves once every one answers a real client call. Rejects with an InfraError whose
 * `results` lists every server's outcome when any of them failed.
 */
export async function up(names, { onResult } = {}) {
  const defs = resolveNames(names).map(definition);
  return withLock(async () => {
    const results = await Promise.all(
      defs.map(async (def) => {
        const res = await upOne(def).catch((err) => ({
          name: def.name,
          ok: false,
          error: err.reason ?? err.message,
          // An error may name its own log (Maven's), or none when its message says it all.
          logPath: err.foreign ? null : err.logPath !== undefined ? err.logPath : logFile(def.name),
          logHint: err.foreign || err.logPath !== undefined ? null : def.logHint,
        }));
        onResult?.(res);
        return res;
      }),
    );
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) {
      throw new InfraError(null, failed.map((r) => `${r.name}: ${r.error}`).join('; '), { results });
    }
    return results;
  });
}

async function stopOne(def) {
  const started = Date.now();
  const pid = ownedPid(def);
  if (!pid) {
    const other = portOwner(def.ports[0]);
    const action = other ? 'left running (not started by us)' : 'not running';
    return { name: def.name, action, pid: other?.pid ?? null, ms: 0 };
  }
  let action;
  if (def.terminate) {
    await def.terminate();
    action = 'stopped';
  } else {
    action = (await stopPid(pid, { timeoutMs: def.stopTimeoutMs })) === 'killed' ? 'killed' : 'stopped';
    rmSync(pidFile(def.name), { force: true });
  }
  return { name: def.name, action, pid, ms: Date.now() - started };
}

const stopMany = (names) => Promise.all(resolveNames(names).map(definition).map(stopOne));

/** Stops the named servers (default: all) that this script started; leaves others alone. */
export function down(names) {
  return withLock(() => stopMany(names));
}

/** One line of facts per server: running or not, pid, whether it answers. */
export async function status(names) {
  const defs = resolveNames(names).map(definition);
  return Promise.all(
    defs.map(async (def) => {
      const owned = ownedPid(def);
      const listener = owned ? null : portOwner(def.ports[0]);
      const pid = owned ?? listener?.pid ?? null;
      const running = Boolean(owned || listener);
      const paused = pid ? isPaused(pid) : false;
      const check = running && !paused ? await probeOnce(def) : { ready: false, detail: '' };
      return {
        name: def.name,
        running,
        pid,
        ours: Boolean(owned),
        paused,
        ready: check.ready,
        detail: check.detail,
      };
    }),
  );
}

/**
 * The named servers (default: all) that run but were not started by this checkout: `restart`
 * and `pause` refuse them, and tests that stop a server skip themselves for them.
 */
export function notStartedByUs(names) {
  return resolveNames(names)
    .map(definition)
    .filter((def) => !ownedPid(def) && portOwner(def.ports[0]))
    .map((def) => def.name);
}

/** True when the server answers a real client call now (it need not be ours). */
export async function isReady(name, { timeoutMs = PROBE_TIMEOUT_MS } = {}) {
  return (await probeOnce(definition(name), timeoutMs)).ready;
}

/** Stops what we started, then wipes .infra/data; copied jars and generated configs stay. */
export function reset() {
  return withLock(async () => {
    const stopped = await stopMany();
    rmSync(DATA_DIR, { recursive: true, force: true });
    return stopped;
  });
}

/**
 * SIGSTOP: the server freezes with its sockets open (clients see timeouts, not refusals).
 * Only a server this script started: freezing someone else's would be stopping it.
 */
export function pause(name) {
  if (notStartedByUs([name]).length > 0) {
    throw new InfraError(name, 'running, not started by us: left alone (pause only freezes what this script started)');
  }
  return sendSignal(name, 'SIGSTOP');
}

export function resume(name) {
  return sendSignal(name, 'SIGCONT');
}

/**
 * SIGKILL, as a crash would (no clean shutdown, nothing flushed by the server itself), then waits
 * until the process is gone. Only a server this script started; `up` starts it again.
 */
export function kill(name) {
  const def = definition(name);
  return withLock(async () => {
    const pid = ownedPid(def);
    if (!pid) {
      if (notStartedByUs([name]).length > 0) {
        throw new InfraError(name, 'running, not started by us: left alone (kill only kills what this script started)');
      }
      throw new InfraError(name, 'not running, nothing to kill');
    }
    const started = Date.now();
    signal(pid, 'SIGKILL');
    while (isAlive(pid)) {
      if (Date.now() - started > 30_000) throw new InfraError(name, `pid ${pid} still alive 30 s after SIGKILL`);
      await sleep(100);
    }
    rmSync(pidFile(def.name), { force: true });
    return { name: def.name, action: 'killed (SIGKILL)', pid, ms: Date.now() - started };
  });
}

function sendSignal(name, sig) {
  const pid = runningPid(definition(name));
  if (!pid || !signal(pid, sig)) throw new InfraError(name, `not running, cannot send ${sig}`);
  return pid;
}

// One `up`/`down`/`reset` at a time across processes (e.g. parallel test runners): a lock
// file holding the owner's pid, taken over when that process is gone.
const LOCK_PATH = path.join(RUN_DIR, 'lock');
const LOCK_WAIT_MS = 300_000;

async function withLock(fn) {
  mkdirSync(RUN_DIR, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(LOCK_PATH, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let holder = null;
      try {
        holder = Number.parseInt(readFileSync(LOCK_PATH, 'utf8'), 10);
      } catch {
        /* released meanwhile */
      }
      if (holder && !isAlive(holder)) rmSync(LOCK_PATH, { force: true });
      else if (Date.now() > deadline) throw new InfraError(null, `${LOCK_PATH} held by pid ${holder} for too long`);
      else await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK_PATH, { force: true });
  }
}
