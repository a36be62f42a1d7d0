import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { APP_NAMES } from '@app/testing';

describe('configuration', () => {
  it.each(APP_NAMES)('%s started with a malformed variable exits 1 with one line naming it', (name) => {
    const variable = `${name.toUpperCase()}_PORT`;
    const result = spawnSync(process.execPath, [join(__dirname, '..', 'dist', 'apps', name, 'src', 'main.js')], {
      env: { ...process.env, [variable]: 'eighty' },
      encoding: 'utf8',
      timeout: 20_000,
    });

    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${name}: Invalid environment: ${variable} must be an integer number.*\\(got "eighty"\\)$`));
    expect(result.stdout).toBe('');
  });
});
