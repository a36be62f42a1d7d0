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
const production = process.env.NODE_ENV === 'production';
// The apps write to concurrently's pipes, not to this terminal: ask for pretty lines when a person
// is watching (concurrently passes FORCE_COLOR on, so they stay coloured), JSON otherwise.
if (!process.env.LOG_FORMAT || process.env.LOG_FORMAT === 'auto') {
  process.env.LOG_FORMAT = process.stdout.isTTY && !production ? 'pretty' : 'json';
}
run(process.execPath, ['scripts/infra/infra.mjs', 'up']);
run('npm', ['run', '--silent', 'build']);

const host = process.env.HOST ?? '127.0.0.1';
const urls = APPS.map(([name, variable, port]) => [name, `http://${host}:${process.env[variable] ?? port}`]);

// concurrently forwards Ctrl-C and SIGTERM to every app.
const { result } = concurrently(
  APPS.map(([name]) => ({ name, command: `exec node dist/apps/${name}/src/main.js` })),
  { prefix: 'name', prefixColors: ['cyan', 'green', 'yellow', 'magenta', 'blue', 'red'], killOthers: [], handleInput: false },
);

function portRange() {
  const ports = urls.map(([, url]) => Number(new URL(url).port)).sort((a, b) => a - b);
  return `${ports[0]}–${ports[ports.length - 1]}`;
}

/**
 * The development admin login and a store key, so the first request needs no digging. Only the
 * development defaults are printed: a password or key set in .env (or any value in production)
 * stays out of the terminal.
 */
function developmentCredentials() {
  if (production) return [];
  const DEV_ADMIN_PASSWORD = 'admin-password';
  const DEV_STORE_API_KEYS = 'store-1:dev-key-store-1,store-2:dev-key-store-2,store-3:dev-key-store-3';
  const email = process.env.ADMIN_EMAIL || 'admin@example.com';
  const password = process.env.ADMIN_PASSWORD || DEV_ADMIN_PASSWORD;
  const storeKeys = process.env.STORE_API_KEYS || DEV_STORE_API_KEYS;
  return [
    password === DEV_ADMIN_PASSWORD
      ? `  admin login  ${email} / ${password}          (development only: POST ${urls[0][1]}/v1/auth/login)`
      : `  admin login  ${email} / the ADMIN_PASSWORD of your .env`,
    storeKeys === DEV_STORE_API_KEYS
      ? '  store key    X-Api-Key: dev-key-store-1 for store-1          (development only; dev-key-store-2 and -3 too)'
      : '  store keys   those of STORE_API_KEYS in your .env',
  ];
}

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
      `  docs         ${api}/docs     (the API for people; ${api}/docs/openapi.json for tools)`,
      `  ops page     ${api}/ops      (sign in as admin or ops: health, lag, purchases, dead letters)`,
      `  ingest       ${urls[1][1]}          (stores: POST /v1/stores/{storeId}/stock-events)`,
      `  MailDev      http://127.0.0.1:1080          (every e-mail the system sends)`,
      `  health       <app>/health/live, <app>/health/ready, <app>/metrics on ports ${portRange()}`,
      ...developmentCredentials(),
      'Ctrl-C stops the apps; `npm run infra:down` stops Kafka, Cassandra and MailDev.',
    ];
process.stdout.write(`\n${lines.join('\n')}\n\n`);

result.then(
  () => process.exit(0),
  () => process.exit(0),
);
