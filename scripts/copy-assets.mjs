// tsc emits only JavaScript: copy each app's CQL migrations beside the compiled module that loads them.
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

for (const app of readdirSync('apps')) {
  const from = join('apps', app, 'src', 'migrations');
  if (existsSync(from)) cpSync(from, join('dist', 'apps', app, 'src', 'migrations'), { recursive: true });
}
