import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const SCRIPT = resolve(__dirname, '../../../scripts/infra/infra.mjs');

export type InfraServer = 'kafka' | 'cassandra' | 'rabbitmq' | 'redis' | 'maildev';

/**
 * Runs the project's infrastructure script (the same one `npm run infra:*` runs). `kill` is
 * SIGKILL (a crash) of a server this checkout started; the script refuses any other.
 */
export function infra(command: 'up' | 'down' | 'restart' | 'status' | 'pause' | 'resume' | 'kill', ...servers: InfraServer[]): string {
  return execFileSync(process.execPath, [SCRIPT, command, ...servers], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

/**
 * True unless `server` runs but was not started by this checkout (`infra status` says "not
 * started by us", e.g. a system RabbitMQ or Redis, or another checkout's Kafka): a test may stop
 * it only when true. A stopped server counts as ours, since `infra up` would start it here.
 */
export function serverControlledHere(server: InfraServer): boolean {
  return !infra('status', server).includes('(not started by us)');
}

/** A test declaration, as jest's `it`. */
export type TestDeclaration = (name: string, fn: jest.ProvidesCallback, timeout?: number) => void;

/**
 * `it` for a test that stops, pauses or restarts `server`: the real `it` when this checkout
 * controls it, else jest's skipped variant, with the reason printed once and in the test's name,
 * so the run reports the test as skipped rather than passed. Decided when the file loads.
 */
export function itWhenControlledHere(server: InfraServer, label: string): TestDeclaration {
  if (serverControlledHere(server)) return it;
  const reason = `skipped: ${label} was not started by this checkout, and its tests stop only what this checkout started`;
  process.stdout.write(`${reason}\n`);
  const skipped = it.skip;
  return (name, fn, timeout) => skipped(`${name} [${reason}]`, fn, timeout);
}
