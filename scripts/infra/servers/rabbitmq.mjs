// RabbitMQ on 127.0.0.1:5672 (guest/guest). Often already running as a system service: then it
// is used as is and never stopped. Otherwise Debian's package is started (and installed if
// missing), and a state file remembers that this script started it, so `down` stops it.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import amqplib from 'amqplib';
import { HOST, logFile, stateFile } from '../paths.mjs';
import { portOwner, run, withTimeout } from '../proc.mjs';

const PORT = 5672;
const SERVER_BIN = '/usr/sbin/rabbitmq-server';
const CTL_BIN = '/usr/sbin/rabbitmqctl';

function startedByUs() {
  try {
    return JSON.parse(readFileSync(stateFile('rabbitmq'), 'utf8')).startedByUs === true;
  } catch {
    return false;
  }
}

function appendLog(text) {
  mkdirSync(path.dirname(logFile('rabbitmq')), { recursive: true });
  writeFileSync(logFile('rabbitmq'), `\n=== ${new Date().toISOString()}\n${text.trim()}\n`, { flag: 'a' });
}

async function install() {
  appendLog('rabbitmq-server is not installed: apt-get install -y rabbitmq-server');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  appendLog(await run('apt-get', ['update'], { env }));
  appendLog(await run('apt-get', ['install', '-y', 'rabbitmq-server'], { env }));
}

// A broker we start listens on loopback only: AMQP, epmd and Erlang distribution.
// (The Debian wrapper switches to the rabbitmq user with su, which keeps the environment.)
const LOOPBACK_ENV = {
  RABBITMQ_NODE_IP_ADDRESS: HOST,
  ERL_EPMD_ADDRESS: HOST,
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
};

export default {
  name: 'rabbitmq',
  ports: [PORT],
  readyTimeoutMs: 90_000,
  stopTimeoutMs: 60_000,
  /** May be a server this script did not start; up uses it, down leaves it alone. */
  shared: true,
  logHint: 'the broker itself logs under /var/log/rabbitmq/',

  /** The broker's pid if this script started it and it still listens, else null. */
  ownedPid() {
    if (!startedByUs()) return null;
    const owner = portOwner(PORT);
    if (owner?.pid) return owner.pid;
    rmSync(stateFile('rabbitmq'), { force: true }); // started by us once, since stopped
    return null;
  },

  /** Installs if needed and starts the broker; resolves to null (its pid is known once it listens). */
  async launch() {
    if (!existsSync(SERVER_BIN)) {
      await install();
      // The package may have started it, on every interface: restart it our way.
      if (portOwner(PORT)) appendLog(await run(CTL_BIN, ['stop']));
    }
    mkdirSync(path.dirname(stateFile('rabbitmq')), { recursive: true });
    writeFileSync(stateFile('rabbitmq'), `${JSON.stringify({ startedByUs: true, at: new Date().toISOString() })}\n`);
    // Returns at once; the broker logs under /var/log/rabbitmq.
    appendLog(await run(SERVER_BIN, ['-detached'], { env: { ...process.env, ...LOOPBACK_ENV } }));
    return null;
  },

  async terminate() {
    appendLog(await run(CTL_BIN, ['stop'], { timeoutMs: this.stopTimeoutMs }));
    rmSync(stateFile('rabbitmq'), { force: true });
  },

  async probe(timeoutMs) {
    const connecting = amqplib.connect(`amqp://guest:guest@${HOST}:${PORT}`, { timeout: timeoutMs });
    try {
      return await withTimeout((async () => {
        const connection = await connecting;
        const channel = await connection.createChannel();
        await channel.close();
        return `AMQP ${connection.connection.serverProperties?.version ?? ''}`.trim();
      })(), timeoutMs, 'rabbitmq');
    } finally {
      connecting.then((c) => c.close()).catch(() => {});
    }
  },
};
