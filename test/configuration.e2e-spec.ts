import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { APP_NAMES, AppName, appPort, E2E_PORT_BASE, startExtraApp, streamRequest } from '@app/testing';

/** Runs one compiled app with exactly `env` (plus PATH) and returns how it ended; a refused start exits at once. */
function start(name: AppName, env: Record<string, string | undefined>) {
  const result = spawnSync(process.execPath, [join(__dirname, '..', 'dist', 'apps', name, 'src', 'main.js')], {
    env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, lines: result.stderr.trim().split('\n'), stdout: result.stdout };
}

/** Production settings that pass, so one variable at a time can be taken back to its default. */
const PRODUCTION: Record<string, string> = {
  NODE_ENV: 'production',
  JWT_SECRET: 'a-production-jwt-secret-of-32-chars-or-more',
  PAGE_TOKEN_SECRET: 'a-production-page-secret',
  PAYMENT_WEBHOOK_SECRET: 'a-production-payment-webhook-secret',
  SHOP_PAGE_TOKEN_SECRET: 'a-production-shop-page-secret',
  STORE_API_KEYS: 'store-1:a-production-store-key',
  ADMIN_PASSWORD: 'a-production-admin-password',
  RABBITMQ_URL: 'amqp://retail:a-broker-password@127.0.0.1:5672',
};

describe('configuration', () => {
  it.each(APP_NAMES)('%s started with a malformed variable exits 1 with one line naming it', (name) => {
    const variable = `${name.toUpperCase()}_PORT`;
    const result = start(name, { NODE_ENV: 'test', [variable]: 'eighty' });
    expect(result.status).toBe(1);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(new RegExp(`^${name}: Invalid environment: ${variable} must be an integer number.*\\(got "eighty"\\)$`));
    expect(result.stdout).toBe('');
  });

  it.each(APP_NAMES)('%s without NODE_ENV exits 1 with one line naming it (development defaults are never implied)', (name) => {
    const result = start(name, {});
    expect(result.status).toBe(1);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(new RegExp(`^${name}: Invalid environment: NODE_ENV must be set to development, test or production.*\\(not set\\)$`));
  });

  // Each production secret left at its development default (or unset) is refused, naming it.
  const defaults: [AppName, string, string | undefined][] = [
    ['api', 'JWT_SECRET', 'dev-only-jwt-secret-do-not-use-in-production'],
    ['api', 'JWT_SECRET', undefined],
    ['api', 'PAGE_TOKEN_SECRET', 'dev-only-page-token-secret'],
    ['api', 'PAYMENT_WEBHOOK_SECRET', 'dev-only-payment-webhook-secret'],
    ['shop', 'SHOP_PAGE_TOKEN_SECRET', 'dev-only-shop-page-token-secret'],
    ['ingest', 'STORE_API_KEYS', undefined],
    ['account', 'ADMIN_PASSWORD', 'admin-password'],
    ['account', 'ADMIN_PASSWORD', undefined],
    ...(['api', 'account', 'shop', 'mailer'] as const).map((app): [AppName, string, string | undefined] => [app, 'RABBITMQ_URL', undefined]),
    ['mailer', 'RABBITMQ_URL', 'amqp://guest:guest@127.0.0.1:5672'],
  ];
  it.each(defaults)('%s in production refuses %s = %s, naming it and not its value', (name, variable, value) => {
    const result = start(name, { ...PRODUCTION, [variable]: value });
    expect(result.status).toBe(1);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(new RegExp(`^${name}: Invalid environment: .*${variable}`));
    if (value) expect(result.lines[0]).not.toContain(value);
  });

  it('a secret that is set but invalid is named, never printed', () => {
    const result = start('api', { ...PRODUCTION, JWT_SECRET: 'too-short-but-secret' });
    expect(result.status).toBe(1);
    expect(result.lines[0]).toMatch(/JWT_SECRET must be longer than or equal to 32 characters \(set; its value is not shown\)/);
    expect(result.lines[0]).not.toContain('too-short-but-secret');
  });
});

describe('limits at the edge', () => {
  it('the api answers a body over its limit with 413 and the error body', async () => {
    const body = JSON.stringify({ email: 'big@example.test', password: 'long enough', name: 'x'.repeat(2 * 1024 * 1024) });
    const reply = await streamRequest(
      appPort('api'),
      `POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
      Buffer.from(body),
    );
    expect(reply.status).toBe(413);
    expect(reply.json).toMatchObject({ statusCode: 413, error: 'Payload Too Large', message: expect.any(String) });
  });

  it('ingest over RATE_LIMIT_RPS answers 429 with Retry-After and the error body', async () => {
    // A store key of its own: the counters are shared with every ingest instance through Redis.
    const ingest = startExtraApp('ingest', E2E_PORT_BASE + 15, { RATE_LIMIT_RPS: '2', STORE_API_KEYS: 'store-limits:limits-test-key' });
    try {
      await ingest.ready();
      const event = { eventId: `limit-${Date.now()}`, sku: 'SKU-LIMIT', type: 'delivery', quantity: 1, occurredAt: new Date().toISOString() };
      const replies = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(`${ingest.url}/v1/stores/store-limits/stock-events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': 'limits-test-key' },
            body: JSON.stringify([event]),
          }),
        ),
      );
      const limited = replies.filter((r) => r.status === 429);
      expect(limited.length).toBeGreaterThan(0);
      expect(replies.filter((r) => r.status === 202).length).toBeGreaterThan(0);
      expect(Number(limited[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await limited[0].json()).toMatchObject({
        statusCode: 429,
        error: 'Too Many Requests',
        message: expect.stringMatching(/per store key; retry after/),
      });
    } finally {
      await ingest.stop();
    }
  });
});
