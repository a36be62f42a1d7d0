// Redis on 127.0.0.1:6379: the store of rate limits the api and ingest instances share.
// Handled like RabbitMQ: a running Redis (often a system one) is used as is and never stopped.
// Otherwise Debian's `redis-server` is started here, without persistence, its files under
// .infra/ (installed first with apt-get if missing), and a state file remembers that this
// script started it, so `down` stops it.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HOST, dataDir, logFile, pidFile, stateFile } from '../paths.mjs';
import { findBin, livePidFromFile, note, portOwner, run, runPrivileged, sleep, stopPid } from '../proc.mjs';

const NAME = 'redis';
const PORT = 6379;
const serverBin = () => findBin('redis-server');

function startedByUs() {
  try {
    return JSON.parse(readFileSync(stateFile(NAME), 'utf8')).startedByUs === true;
  } catch {
    return false;
  }
}

function appendLog(text) {
  mkdirSync(path.dirname(logFile(NAME)), { recursive: true });
  writeFileSync(logFile(NAME), `\n=== ${new Date().toISOString()}\n${text.trim()}\n`, { flag: 'a' });
}

/**
 * Sends one command in RESP and resolves with the first line of the reply (`+PONG`, `-ERR ...`).
 * Rejects when the connection fails, closes without a reply, or nothing comes within `timeoutMs`.
 */
export function redisCommand(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port: PORT });
    let reply = '';
    const finish = (err, line) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(line);
    };
    const timer = setTimeout(() => finish(new Error(`redis: no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      const end = reply.indexOf('\r\n');
      if (end >= 0) finish(null, reply.slice(0, end));
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error('redis: connection closed without a reply')));
  });
}

async function portFreed(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (portOwner(PORT)) {
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
  return true;
}

async function install() {
  note(NAME, 'redis-server is not installed: apt-get install -y redis-server');
  appendLog('redis-server is not installed: apt-get install -y redis-server');
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  appendLog(await runPrivileged(NAME, 'apt-get', ['update'], { env }));
  appendLog(await runPrivileged(NAME, 'apt-get', ['install', '-y', 'redis-server'], { env }));
  // The package may have started its system service (persistence on, /var/lib/redis): stop it
  // and start ours, as for RabbitMQ.
  if (portOwner(PORT)) {
    await runPrivileged(NAME, 'service', ['redis-server', 'stop']).then(appendLog, (err) => appendLog(err.message));
    if (!(await portFreed(10_000))) throw new Error(`the redis-server package's service still holds port ${PORT}`);
  }
}

export default {
  name: NAME,
  ports: [PORT],
  readyTimeoutMs: 30_000,
  stopTimeoutMs: 10_000,
  /** May be a server this script did not start; up uses it, down leaves it alone. */
  shared: true,

  /** Redis's pid if this script started it and it still listens, else null. */
  ownedPid() {
    if (!startedByUs()) return null;
    if (portOwner(PORT)) {
      const pid = portOwner(PORT)?.pid ?? livePidFromFile(pidFile(NAME), 'redis-server');
      if (pid) return pid;
    }
    rmSync(stateFile(NAME), { force: true }); // started by us once, since stopped
    return null;
  },

  /**
   * Installs if needed and starts redis-server as the current user (its files are under
   * .infra/, no root needed); resolves to null (its pid is known once it listens).
   */
  async launch() {
    if (!serverBin()) await install();
    const bin = serverBin();
    if (!bin) throw new Error('redis-server is still missing after apt-get install redis-server');
    mkdirSync(dataDir(NAME), { recursive: true });
    mkdirSync(path.dirname(pidFile(NAME)), { recursive: true });
    writeFileSync(stateFile(NAME), `${JSON.stringify({ startedByUs: true, at: new Date().toISOString() })}\n`);
    appendLog(`${bin} --daemonize yes ... (it logs below)`);
    // Returns once the server has forked into the background.
    await run(bin, [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '-::1', // loopback only; `-` = skip IPv6 when the host has none
      '--port',
      String(PORT),
      '--save',
      '',
      '--appendonly',
      'no', // rate-limit counters only: no persistence
      '--dir',
      dataDir(NAME),
      '--logfile',
      logFile(NAME),
      '--pidfile',
      pidFile(NAME),
    ]);
    return null;
  },

  async terminate() {
    const pid = this.ownedPid();
    // SHUTDOWN closes the connection without a reply.
    await redisCommand(['SHUTDOWN', 'NOSAVE'], 5_000).catch(() => {});
    if (!(await portFreed(this.stopTimeoutMs)) && pid) await stopPid(pid, { timeoutMs: 5_000 });
    rmSync(stateFile(NAME), { force: true });
    rmSync(pidFile(NAME), { force: true });
  },

  /** A real round trip: PING must answer +PONG (not -NOAUTH, -LOADING, or another protocol). */
  async probe(timeoutMs) {
    const reply = await redisCommand(['PING'], timeoutMs);
    if (reply !== '+PONG') throw new Error(`PING answered ${JSON.stringify(reply.slice(0, 60))}`);
    return 'PING +PONG';
  },
};
