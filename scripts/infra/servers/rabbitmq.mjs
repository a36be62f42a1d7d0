// RabbitMQ on 127.0.0.1:5672 (guest/guest). Often already running as a system service: then it
// is used as is and never stopped. Otherwise Debian's package is started (and installed if
// missing), and a state file remembers that this script started it, so `down` stops it.
// Installing, starting and stopping the system broker need root: sudo when not root.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import amqplib from 'amqplib';
import { HOST, logFile, stateFile } from '../paths.mjs';
import { findBin, note, pidByCommand, portOwner, runPrivileged, withTimeout } from '../proc.mjs';

const NAME = 'rabbitmq';
const PORT = 5672;
// Both live in /usr/sbin, which a normal user's PATH lacks: findBin looks there too.
const serverBin = () => findBin('rabbitmq-server');
const ctlBin = () => findBin('rabbitmqctl') ?? '/usr/sbin/rabbitmqctl';

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
  note(NAME, 'rabbitmq-server is not installed: apt-get install -y rabbitmq-server');
  appendLog('rabbitmq-server is not installed: apt-get install -y rabbitmq-server');
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  appendLog(await runPrivileged(NAME, 'apt-get', ['update'], { env }));
  appendLog(await runPrivileged(NAME, 'apt-get', ['install', '-y', 'rabbitmq-server'], { env }));
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
    // Without root the broker's sockets can't be seen (it runs as the rabbitmq user): its command line can.
    const pid = owner ? (owner.pid ?? pidByCommand(/beam\.smp .* -s rabbit boot/)) : null;
    if (pid) return pid;
    rmSync(stateFile('rabbitmq'), { force: true }); // started by us once, since stopped
    return null;
  },

  /** Installs if needed and starts the broker; resolves to null (its pid is known once it listens). */
  async launch() {
    if (!serverBin()) {
      await install();
      // The package may have started it, on every interface: restart it our way.
      if (portOwner(PORT)) appendLog(await runPrivileged(NAME, ctlBin(), ['stop']));
    }
    const bin = serverBin();
    if (!bin) throw new Error('rabbitmq-server is still missing after apt-get install rabbitmq-server');
    mkdirSync(path.dirname(stateFile('rabbitmq')), { recursive: true });
    writeFileSync(stateFile('rabbitmq'), `${JSON.stringify({ startedByUs: true, at: new Date().toISOString() })}\n`);
    // Returns at once; the broker logs under /var/log/rabbitmq.
    appendLog(await runPrivileged(NAME, bin, ['-detached'], { env: LOOPBACK_ENV }));
    return null;
  },

  async terminate() {
    appendLog(await runPrivileged(NAME, ctlBin(), ['stop'], { timeoutMs: this.stopTimeoutMs }));
    rmSync(stateFile('rabbitmq'), { force: true });
  },

  async probe(timeoutMs) {
    const connecting = amqplib.connect(`amqp://guest:guest@${HOST}:${PORT}`, { timeout: timeoutMs });
    try {
      return await withTimeout(
        (async () => {
          const connection = await connecting;
          const channel = await connection.createChannel();
          await channel.close();
          return `AMQP ${connection.connection.serverProperties?.version ?? ''}`.trim();
        })(),
        timeoutMs,
        'rabbitmq',
      );
    } finally {
      connecting.then((c) => c.close()).catch(() => {});
    }
  },
};
