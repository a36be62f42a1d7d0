import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const SCRIPT = resolve(__dirname, '../../../scripts/infra/infra.mjs');

export type InfraServer = 'kafka' | 'cassandra' | 'rabbitmq' | 'maildev';

/** Runs the project's infrastructure script (the same one `npm run infra:*` runs). */
export function infra(command: 'up' | 'down' | 'status' | 'pause' | 'resume', ...servers: InfraServer[]): string {
  return execFileSync(process.execPath, [SCRIPT, command, ...servers], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}
