// tsc emits only JavaScript: copy the files an app reads at run time beside the compiled module that
// reads them (each app's CQL migrations, the api's ops page, the gRPC contracts' .proto files in
// libs), and the OpenAPI document, as JSON, where the api serves it from (GET /docs/openapi.json).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ASSET_DIRS = ['migrations', join('ops-page', 'assets')];

for (const app of readdirSync('apps')) {
  for (const dir of ASSET_DIRS) {
    const from = join('apps', app, 'src', dir);
    if (existsSync(from)) cpSync(from, join('dist', 'apps', app, 'src', dir), { recursive: true });
  }
}

// gRPC: Nest's transport loads each .proto at run time, from beside the compiled contract that names it.
const protos = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? protos(join(dir, entry.name)) : entry.name.endsWith('.proto') ? [join(dir, entry.name)] : [],
  );
for (const lib of readdirSync('libs')) {
  const src = join('libs', lib, 'src');
  if (!existsSync(src)) continue;
  for (const file of protos(src)) cpSync(file, join('dist', file));
}

// A document that does not parse stops the build here, with the line it failed on.
const openapi = parse(readFileSync(join('docs', 'openapi.yaml'), 'utf8'));
mkdirSync(join('dist', 'apps', 'api', 'src', 'docs'), { recursive: true });
writeFileSync(join('dist', 'apps', 'api', 'src', 'docs', 'openapi.json'), JSON.stringify(openapi));
