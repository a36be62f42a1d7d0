import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitFor } from './wait';

export const APP_NAMES = ['api', 'ingest', 'process', 'account', 'shop', 'mailer'] as const;
export type AppName = (typeof APP_NAMES)[number];

const ROOT = resolve(__dirname, '../../..');
/** Test apps listen on their own ports (base + offset), so a dev system on 3000–3005 can keep running. */
export const E2E_PORT_BASE = Number(process.env.E2E_PORT_BASE ?? 4000);
const STATE_DIR = join(ROOT, '.infra', `e2e-${E2E_PORT_BASE}`);
const STATE_FILE = join(STATE_DIR, 'apps.json');

export function appPort(name: AppName): number {
  return E2E_PORT_BASE + APP_NAMES.indexOf(name);
}

export function appUrl(name: AppName): string {
  return `http://127.0.0.1:${appPort(name)}`;
}

/** The shared test shop's gRPC port (the inventory check at checkout), away from every HTTP port the tests use. */
export const E2E_SHOP_GRPC_PORT = E2E_PORT_BASE + 34;

/** The test apps cut off a request whose headers and body have not arrived after this long. */
export const E2E_HTTP_REQUEST_TIMEOUT_MS = Number(process.env.HTTP_REQUEST_TIMEOUT_MS ?? 10_000);

type State = Partial<Record<AppName, { pid: number }>>;

function readState(): State {
  return existsSync(STATE_FILE) ? (JSON.parse(readFileSync(STATE_FILE, 'utf8')) as State) : {};
}

function writeState(state: State): void {
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(STATE_FILE, JSON.stringify(state));
}

/** The environment every test app gets: its ports, and the ops view pointed at the test ports. */
export function appEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    // The suites register and sign in many users from one address; the limit has tests of its own.
    AUTH_RATE_LIMIT_PER_MIN: process.env.AUTH_RATE_LIMIT_PER_MIN ?? '0',
    INGEST_KEY_FAILURES_PER_MIN: process.env.INGEST_KEY_FAILURES_PER_MIN ?? '0',
    // Short, so the stalled-body tests wait seconds, not a minute.
    HTTP_REQUEST_TIMEOUT_MS: String(E2E_HTTP_REQUEST_TIMEOUT_MS),
  };
  for (const name of APP_NAMES) env[`${name.toUpperCase()}_PORT`] = String(appPort(name));
  env.OPS_HEALTH_TARGETS = APP_NAMES.map((name) => `${name}=${appUrl(name)}`).join(',');
  env.SHOP_GRPC_PORT = String(E2E_SHOP_GRPC_PORT);
  env.SHOP_GRPC_URL = `127.0.0.1:${E2E_SHOP_GRPC_PORT}`;
  return { ...env, ...extra };
}

/** Starts one compiled app (run `npm run build` first) and records its pid; logs go to .infra/e2e-<port base>/<app>.log. */
export function startApp(name: AppName, extraEnv: Record<string, string> = {}): number {
  mkdirSync(STATE_DIR, { recursive: true });
  const log = openSync(join(STATE_DIR, `${name}.log`), 'a');
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', name, 'src', 'main.js')], {
    cwd: ROOT,
    env: appEnvironment(extraEnv),
    stdio: ['ignore', log, log],
    detached: true,
  });
  closeSync(log);
  child.unref();
  const state = readState();
  state[name] = { pid: child.pid! };
  writeState(state);
  return child.pid!;
}

export async function waitReady(name: AppName, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `${name} to be ready`,
    async () => {
      const pid = readState()[name]?.pid;
      if (pid !== undefined && !isAlive(pid)) throw new Error(`${name} exited; see ${STATE_DIR}/${name}.log`);
      return (await fetch(`${appUrl(name)}/health/ready`)).ok;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** True when the shared system's app answers `GET /health/live`. */
export async function isLive(name: AppName): Promise<boolean> {
  return fetch(`${appUrl(name)}/health/live`).then(
    (r) => r.ok,
    () => false,
  );
}

/**
 * Every app of the shared system running and ready: started again if a test left one down (its
 * process gone), waited for if it is still starting (a test restarted it).
 */
export async function everyAppReady(): Promise<void> {
  for (const name of APP_NAMES) {
    const pid = readState()[name]?.pid;
    if (!(await isLive(name)) && (pid === undefined || !isAlive(pid))) startApp(name);
  }
  await Promise.all(APP_NAMES.map((name) => waitReady(name, 180_000)));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to the app and waits until its process is gone. */
export async function killApp(name: AppName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const pid = readState()[name]?.pid;
  if (pid === undefined || !isAlive(pid)) return;
  process.kill(pid, signal);
  await waitFor(`${name} (pid ${pid}) to exit`, () => !isAlive(pid), { timeoutMs: 30_000 });
}

export async function restartApp(name: AppName, extraEnv: Record<string, string> = {}): Promise<void> {
  await killApp(name, 'SIGKILL');
  startApp(name, extraEnv);
  await waitReady(name);
}

export async function startAllApps(names: readonly AppName[] = APP_NAMES): Promise<void> {
  for (const name of names) startApp(name);
  await Promise.all(names.map((name) => waitReady(name)));
}

export async function stopAllApps(): Promise<void> {
  await Promise.all(APP_NAMES.map((name) => killApp(name, 'SIGTERM')));
}

/** An extra instance of an app beside the shared test system (its own port and settings). */
export interface ExtraApp {
  readonly pid: number;
  readonly url: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** What it printed on stderr so far. */
  errors(): string;
  /** True until it has exited. */
  alive(): boolean;
  /** Resolves with its exit code (or the signal's name) once it has exited. */
  readonly exited: Promise<number | string>;
  /** Resolves once GET /health/ready answers 200; rejects if it exits first. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts one more compiled app on `port` (set as its `<APP>_PORT`), with the test environment
 * plus `extraEnv`. Not recorded in the shared state: the caller stops it.
 */
export function startExtraApp(name: AppName, port: number, extraEnv: Record<string, string> = {}): ExtraApp {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', name, 'src', 'main.js')], {
    cwd: ROOT,
    // An extra shop serves gRPC beside its HTTP port (port + 100), not on the shared shop's.
    env: appEnvironment({ [`${name.toUpperCase()}_PORT`]: String(port), ...(name === 'shop' ? { SHOP_GRPC_PORT: String(port + 100) } : {}), ...extraEnv }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  let errors = '';
  const collect = (chunk: Buffer) => {
    printed = (printed + chunk.toString('utf8')).slice(-200_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', (chunk: Buffer) => {
    collect(chunk);
    errors = (errors + chunk.toString('utf8')).slice(-200_000);
  });
  let done = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  return {
    pid: child.pid!,
    url,
    output: () => printed,
    errors: () => errors,
    alive: () => !done,
    exited,
    ready: async (timeoutMs = 120_000) => {
      await waitFor(
        `${name} on ${port} to be ready`,
        async () => {
          if (done) throw new Error(`${name} on ${port} exited: ${printed.slice(-2000)}`);
          return (await fetch(`${url}/health/ready`).catch(() => undefined))?.ok === true;
        },
        { timeoutMs, intervalMs: 250 },
      );
    },
    stop: async (graceMs = 15_000) => {
      if (done) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
