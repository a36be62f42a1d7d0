// Process helpers: detached spawns, pid files, liveness, stopping, port owners, log tails,
// binaries outside a normal user's PATH, and sudo for the privileged steps.
import { spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

/** A line on stderr for the person at the console (stdout carries the results scripts read). */
export function note(server, text) {
  process.stderr.write(`${server.padEnd(10)} ${text}\n`);
}

// rabbitmq-server, rabbitmqctl, service live in /usr/sbin: not on a normal user's PATH.
const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Full path of an executable found on PATH or in the system folders, or null. */
export function findBin(name) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SYSTEM_DIRS];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return null;
}

export const isRoot = () => process.getuid?.() === 0;

/**
 * Runs a privileged step (apt-get, the system RabbitMQ or Redis): directly as root, else through
 * sudo (which may ask for a password on the terminal), saying so on the console. `env` is passed
 * through `env VAR=value` since sudo resets the environment.
 */
export function runPrivileged(server, cmd, args, { env = {}, timeoutMs } = {}) {
  const bin = cmd.startsWith('/') ? cmd : (findBin(cmd) ?? cmd);
  if (isRoot()) return run(bin, args, { env: { ...process.env, ...env }, timeoutMs });
  const sudo = findBin('sudo');
  if (!sudo) {
    return Promise.reject(new Error(`${path.basename(bin)} ${args.join(' ')} needs root: run as root, or install sudo`));
  }
  const assignments = Object.entries(env).map(([key, value]) => `${key}=${value}`);
  note(server, `not root: sudo ${path.basename(bin)} ${args.join(' ')}`);
  return run(sudo, ['env', ...assignments, bin, ...args], { timeoutMs });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects after `ms`; the timer does not keep the process alive. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** State letter of a process (R, S, T for stopped, Z for zombie, ...), or null if gone. */
export function processState(pid) {
  try {
    // Field 3 of /proc/<pid>/stat, after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return null;
  }
}

/**
 * Alive, and not a zombie: orphans are not reaped at once by every PID 1. A zombie main
 * thread whose other threads still run (a JVM shutting down) still holds its sockets: alive.
 */
export function isAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  const state = processState(pid);
  if (state !== 'Z') return state !== null;
  try {
    return readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return false;
  }
}

export function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

export function readPidFile(file) {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * The pid recorded in `file` if that process still runs and is the one we started
 * (its command line contains `marker`; guards against pid reuse). A stale file is removed.
 */
export function livePidFromFile(file, marker) {
  const pid = readPidFile(file);
  if (pid && isAlive(pid) && commandLine(pid).includes(marker)) return pid;
  if (existsSync(file)) rmSync(file, { force: true });
  return null;
}

/**
 * Starts a process that outlives this script: its own session, stdout and stderr appended
 * to `logPath`, not waited for. Returns the child (its 'exit' still fires while we run).
 */
export function spawnDetached({ cmd, args, cwd, env, logPath, pidPath }) {
  mkdirSync(path.dirname(logPath), { recursive: true });
  mkdirSync(path.dirname(pidPath), { recursive: true });
  const fd = openSync(logPath, 'a');
  writeSync(fd, `\n=== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
  try {
    const child = spawn(cmd, args, {
      cwd,
      env: env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (!child.pid) throw new Error(`could not start ${cmd}`);
    child.unref();
    writeFileSync(pidPath, `${child.pid}\n`);
    return child;
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs a command to completion; resolves with its output, rejects with it on failure.
 * `onOutput` sees each chunk of stdout and stderr as it comes.
 */
export function run(cmd, args, { cwd, env, timeoutMs = 600_000, onOutput } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (d) => {
      out += d;
      onOutput?.(String(d));
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${out.trim()}`));
    });
  });
}

/** SIGTERM, then SIGKILL if still alive after `timeoutMs`. Resolves once the process is gone. */
export async function stopPid(pid, { timeoutMs = 30_000 } = {}) {
  if (!isAlive(pid)) return 'gone';
  // A stopped (SIGSTOP) process would never handle SIGTERM.
  signal(pid, 'SIGCONT');
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'terminated';
    await sleep(200);
  }
  signal(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(100);
  return 'killed';
}

export function signal(pid, sig) {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Inodes of the TCP sockets listening on `port` (IPv4 and IPv6). */
function listeningInodes(port) {
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue; // 0A = LISTEN
      const localPort = Number.parseInt(cols[1].split(':')[1], 16);
      if (localPort === port) inodes.add(cols[9]);
    }
  }
  return inodes;
}

/**
 * Who listens on `port`: null when nobody, else { pid, command } (pid null when the owner
 * can't be seen, e.g. another user's process without root).
 */
export function portOwner(port) {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds;
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1])) {
        const pid = Number(entry);
        return { pid, command: commandLine(pid) };
      }
    }
  }
  return { pid: null, command: '' };
}

/** The last `lines` lines of a file ('' if it does not exist); reads at most its last 256 KiB. */
export function tail(file, lines = 40) {
  let fd;
  try {
    fd = openSync(file, 'r');
    const { size } = fstatSync(fd);
    const length = Math.min(size, 256 * 1024);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Pid of the first process whose command line matches `pattern` (any user's), or null. */
export function pidByCommand(pattern) {
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && pattern.test(commandLine(Number(entry)))) return Number(entry);
  }
  return null;
}
