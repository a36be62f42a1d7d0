import { APP_NAMES, appUrl, killApp, restartApp, startApp, waitFor, waitReady } from '@app/testing';
import { call } from './support/commerce';

jest.setTimeout(300_000);

describe('ops view and rate limits (e2e)', () => {
  afterAll(async () => {
    // Leave the system as found: default api settings and all six apps ready.
    await restartApp('api');
    const mailerUp = await fetch(`${appUrl('mailer')}/health/live`).then((r) => r.ok).catch(() => false);
    if (!mailerUp) startApp('mailer');
    await Promise.all(APP_NAMES.map((name) => waitReady(name, 180_000)));
  });

  it('GET /v1/ops/health: ok with every app ready, degraded naming the app that is down', async () => {
    const healthy = await waitFor('every app to report ready', async () => {
      const reply = await call('GET', '/v1/ops/health');
      return reply.status === 200 && reply.body.status === 'ok' ? reply : false;
    });
    expect(Object.keys(healthy.body.services).sort()).toEqual([...APP_NAMES].sort());
    for (const name of APP_NAMES) expect(healthy.body.services[name]).toMatchObject({ status: 'up', details: expect.any(Object) });

    await killApp('mailer', 'SIGKILL');
    const degraded = await call('GET', '/v1/ops/health');
    expect(degraded.status).toBe(200);
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.services.mailer).toMatchObject({ status: 'down', details: { message: expect.any(String) } });
    expect(degraded.body.services.account.status).toBe('up');

    startApp('mailer');
    await waitReady('mailer');
    await waitFor('ops to be ok again', async () => (await call('GET', '/v1/ops/health')).body.status === 'ok');
  });

  it('over RATE_LIMIT_RPS: 429 with Retry-After and the error body; probes are never limited', async () => {
    await restartApp('api', { RATE_LIMIT_RPS: '5' });
    const replies = await Promise.all(Array.from({ length: 30 }, () => call('GET', '/v1/purchases')));
    const limited = replies.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(Number(limited[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited[0].body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/retry after/) });
    expect(replies.filter((r) => r.status === 401).length).toBeGreaterThan(0);
    const probes = await Promise.all(Array.from({ length: 30 }, () => fetch(`${appUrl('api')}/health/live`)));
    expect(probes.every((r) => r.status === 200)).toBe(true);
  });
});
