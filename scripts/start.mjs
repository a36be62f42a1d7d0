// `npm start`: build, make sure the infrastructure runs, start the six apps with their log lines
// prefixed by app name, and say where everything is once every app is ready. Ctrl-C stops the
// apps cleanly (they finish in-flight work and close their clients); the infrastructure keeps
// running for the next start (`npm run infra:down` stops it).
import concurrently from 'concurrently';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const APPS = [
  ['api', 'API_PORT', 3000],
  ['ingest', 'INGEST_PORT', 3001],
  ['process', 'PROCESS_PORT', 3002],
  ['account', 'ACCOUNT_PORT', 3003],
  ['shop', 'SHOP_PORT', 3004],
  ['mailer', 'MAILER_PORT', 3005],
];

const started = Date.now();
const run = (command, args) => execFileSync(command, args, { stdio: 'inherit' });

if (existsSync('.env')) process.loadEnvFile('.env');
// The apps require NODE_ENV; `npm start` is the development system unless told otherwise.
process.env.NODE_ENV ??= 'development';
run(process.execPath, ['scripts/infra/infra.mjs', 'up']);
run('npm', ['run', '--silent', 'build']);

const host = process.env.HOST ?? '127.0.0.1';
const urls = APPS.map(([name, variable, port]) => [name, `http://${host}:${process.env[variable] ?? port}`]);

// concurrently forwards Ctrl-C and SIGTERM to every app.
const { result } = concurrently(
  APPS.map(([name]) => ({ name, command: `exec node dist/apps/${name}/src/main.js` })),
  { prefix: 'name', prefixColors: ['cyan', 'green', 'yellow', 'magenta', 'blue', 'red'], killOthers: [], handleInput: false },
);

async function waitUntilReady() {
  const deadline = Date.now() + 180_000;
  const pending = new Set(urls.map(([name]) => name));
  while (pending.size > 0 && Date.now() < deadline) {
    for (const [name, url] of urls) {
      if (!pending.has(name)) continue;
      const ok = await fetch(`${url}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) pending.delete(name);
    }
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return pending;
}

const notReady = await waitUntilReady();
const seconds = ((Date.now() - started) / 1000).toFixed(1);
const api = urls[0][1];
const lines = notReady.size
  ? [`Not ready after 180 s: ${[...notReady].join(', ')} — see their log lines above, and GET <app>/health/ready.`]
  : [
      `All six apps are ready (${seconds} s).`,
      `  api          ${api}          (client apps, admins, operators)`,
      `  ingest       ${urls[1][1]}          (stores: POST /v1/stores/{storeId}/stock-events)`,
      `  ops health   ${api}/v1/ops/health`,
      `  health       <app>/health/live, <app>/health/ready, <app>/metrics on ports 3000–3005`,
      `  MailDev UI   http://127.0.0.1:1080          (every e-mail the system sends)`,
      'Ctrl-C stops the apps; `npm run infra:down` stops Kafka, Cassandra and MailDev.',
    ];
process.stdout.write(`\n${lines.join('\n')}\n\n`);

result.then(
  () => process.exit(0),
  () => process.exit(0),
);
