import Redis from 'ioredis';
import {
  APP_NAMES,
  appUrl,
  E2E_PORT_BASE,
  ExtraApp,
  infra,
  itWhenControlledHere,
  killApp,
  makeEvents,
  restartApp,
  sendEvents,
  startApp,
  startExtraApp,
  waitFor,
  waitReady,
} from '@app/testing';
import { admin, buy, call, createItem, credit, registerUser, unique, waitTerminal } from './support/commerce';

jest.setTimeout(300_000);

describe('ops view and rate limits (e2e)', () => {
  afterAll(async () => {
    // Leave the system as found: default api settings and all six apps ready.
    await restartApp('api');
    const mailerUp = await fetch(`${appUrl('mailer')}/health/live`)
      .then((r) => r.ok)
      .catch(() => false);
    if (!mailerUp) startApp('mailer');
    await Promise.all(APP_NAMES.map((name) => waitReady(name, 180_000)));
  });

  it('GET /v1/ops/health (admin): ok with every app ready, degraded naming the app that is down', async () => {
    const token = await admin();
    const healthy = await waitFor('every app to report ready', async () => {
      const reply = await call('GET', '/v1/ops/health', { token });
      return reply.status === 200 && reply.body.status === 'ok' ? reply : false;
    });
    expect(Object.keys(healthy.body.services).sort()).toEqual([...APP_NAMES].sort());
    for (const name of APP_NAMES) expect(healthy.body.services[name]).toMatchObject({ status: 'up', details: expect.any(Object) });

    await killApp('mailer', 'SIGKILL');
    // Answers are reused for about a second, so the change shows within that.
    const degraded = await waitFor('ops to see the mailer down', async () => {
      const reply = await call('GET', '/v1/ops/health', { token });
      return reply.body.status === 'degraded' ? reply : false;
    });
    expect(degraded.status).toBe(200);
    expect(degraded.body.services.mailer).toMatchObject({ status: 'down', details: { message: expect.any(String) } });
    expect(degraded.body.services.account.status).toBe('up');
    const anonymous = await call('GET', '/v1/ops/health');
    expect(anonymous).toMatchObject({ status: 200, body: { status: 'degraded' } });
    expect(Object.keys(anonymous.body)).toEqual(['status']);

    startApp('mailer');
    await waitReady('mailer');
    await waitFor('ops to be ok again', async () => (await call('GET', '/v1/ops/health', { token })).body.status === 'ok');
  });

  it('GET /v1/ops/health (admin): purchase outcomes by terminal status, counted once per purchase', async () => {
    const token = await admin();
    const before = (await call('GET', '/v1/ops/health', { token })).body.purchases;
    const counts = { COMPLETED: expect.any(Number), REJECTED: expect.any(Number), CANCELLED: expect.any(Number) };
    expect(before).toEqual({ ...counts, cart: counts });
    const user = await registerUser('ops-outcomes');
    const sku = await createItem(5, 700);
    await credit(user.id, 1_000);
    const paid = await buy(user, sku); // 700 of 1,000: completed
    const refused = await buy(user, sku); // 700 of 300 left: rejected
    expect([paid.status, refused.status]).toEqual([202, 202]);
    const ended = await waitTerminal(user, [paid.body.purchaseId, refused.body.purchaseId]);
    expect([...ended.values()].map((p) => p.status).sort()).toEqual(['COMPLETED', 'REJECTED']);
    const after = await waitFor('the outcomes to be counted', async () => {
      const counts = (await call('GET', '/v1/ops/health', { token })).body.purchases;
      return counts && counts.COMPLETED > before.COMPLETED && counts.REJECTED > before.REJECTED ? counts : false;
    });
    // Nothing else buys while this suite runs: each purchase counts exactly once.
    expect(after).toEqual({ COMPLETED: before.COMPLETED + 1, REJECTED: before.REJECTED + 1, CANCELLED: before.CANCELLED, cart: before.cart });
    expect(Object.keys((await call('GET', '/v1/ops/health')).body)).toEqual(['status']);
  });

  it('GET /v1/ops/health: only { status } without a token, 403 for a user without admin or ops, 401 for a bad token', async () => {
    const anonymous = await call('GET', '/v1/ops/health');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ status: 'ok' });
    const user = await registerUser('ops-view');
    expect((await call('GET', '/v1/ops/health', { token: user.token })).status).toBe(403);
    expect((await call('GET', '/v1/ops/health', { token: 'not-a-token' })).status).toBe(401);
  });

  it('GET /v1/ops/health: every consumer group’s lag from Kafka; degraded while a frozen process lags above OPS_LAG_DEGRADED, ok once it resumes', async () => {
    await restartApp('api', { OPS_LAG_DEGRADED: '50' });
    const token = await admin();
    const groups = [
      { group: 'process', topic: 'stock.events.v1' },
      { group: 'api', topic: 'catalog.price-changed.v1' },
      { group: 'mailer', topic: 'catalog.price-changed.v1' },
    ];
    const healthy = await waitFor('every app ready and no group lagging', async () => {
      const reply = await call('GET', '/v1/ops/health', { token });
      return reply.body.status === 'ok' ? reply : false;
    });
    expect(healthy.body.consumers).toHaveLength(groups.length);
    for (const group of groups) expect(healthy.body.consumers).toContainEqual({ ...group, lag: expect.any(Number) });
    for (const c of healthy.body.consumers) expect(c.lag).toBeLessThanOrEqual(50);

    // A process of our own, so that its pid is known; frozen, it keeps its partitions' offsets where they are.
    await killApp('process', 'SIGTERM');
    const pid = startApp('process');
    await waitReady('process');
    process.kill(pid, 'SIGSTOP');
    try {
      const events = makeEvents(200, [`SKU-LAG-${Date.now()}`], `lag-${Date.now()}`);
      expect((await sendEvents({ store: 'store-1', key: 'dev-key-store-1' }, events)).status).toBe(202);
      const lagging = await waitFor('the frozen group to lag above 50', async () => {
        const reply = await call('GET', '/v1/ops/health', { token });
        const entry = reply.body.consumers?.find((c: { group: string }) => c.group === 'process');
        return entry?.lag > 50 ? reply : false;
      });
      expect(lagging.status).toBe(200);
      expect(lagging.body.status).toBe('degraded');
      expect(lagging.body.consumers.find((c: { group: string }) => c.group === 'process').lag).toBeGreaterThanOrEqual(200);
      expect(await call('GET', '/v1/ops/health')).toMatchObject({ status: 200, body: { status: 'degraded' } });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const recovered = await waitFor(
      'the group to catch up and ops to be ok',
      async () => {
        const reply = await call('GET', '/v1/ops/health', { token });
        return reply.body.status === 'ok' ? reply : false;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(recovered.body.consumers.find((c: { group: string }) => c.group === 'process').lag).toBeLessThanOrEqual(50);
  });

  itWhenControlledHere('kafka', 'Kafka')('GET /v1/ops/health: when Kafka does not answer, the lag says so (no 500), and health is degraded', async () => {
    const token = await admin();
    infra('pause', 'kafka');
    try {
      const reply = await waitFor('ops to say it cannot read the lag', async () => {
        const started = Date.now();
        const answer = await call('GET', '/v1/ops/health', { token });
        expect(Date.now() - started).toBeLessThan(10_000);
        return answer.body.consumers?.every((c: { lag: number | null }) => c.lag === null) ? answer : false;
      });
      expect(reply.status).toBe(200);
      expect(reply.body.status).toBe('degraded');
      for (const c of reply.body.consumers) expect(c).toMatchObject({ lag: null, error: expect.stringMatching(/Kafka/) });
      const lists = await call('GET', '/v1/ops/dead-letters', { token });
      expect(lists.status).toBe(200);
      expect(lists.body.queues.find((q: { name: string }) => q.name === 'stock.events.v1.dlq')).toMatchObject({
        count: null,
        error: expect.stringMatching(/Kafka/),
      });
    } finally {
      infra('resume', 'kafka');
    }
    await Promise.all(APP_NAMES.map((name) => waitReady(name, 180_000)));
    await waitFor('ops to be ok again', async () => (await call('GET', '/v1/ops/health', { token })).body.status === 'ok', {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
  });

  it('every answer carries nosniff; answers with tokens or account data carry Cache-Control: no-store', async () => {
    const user = await registerUser('headers');
    const replies = [
      await call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } }),
      await call('GET', '/v1/me', { token: user.token }),
      await call('GET', '/v1/purchases', { token: user.token }),
      await call('POST', '/v1/auth/login', { body: { email: user.email, password: 'wrong password' } }),
    ];
    for (const reply of replies) {
      expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
      expect(reply.headers.get('cache-control')).toBe('no-store');
    }
    for (const url of [`${appUrl('api')}/v1/stock/SKU-none`, `${appUrl('ingest')}/health/live`, `${appUrl('process')}/health/ready`]) {
      expect((await fetch(url)).headers.get('x-content-type-options')).toBe('nosniff');
    }
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

  describe('limits that hold across instances (Redis)', () => {
    const extras: ExtraApp[] = [];
    let redis: Redis;

    beforeAll(async () => {
      redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
      // Counters are per address, and every test client is 127.0.0.1: start from none.
      for (const pattern of ['*auth-ip*', '*auth-account*', 'failures:ingest-key:*']) {
        const keys = await redis.keys(pattern);
        if (keys.length > 0) await redis.del(...keys);
      }
    });
    afterAll(async () => {
      await Promise.all(extras.map((app) => app.stop()));
      redis.disconnect();
    });

    const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

    it('AUTH_RATE_LIMIT_PER_MIN: per account and per IP, counted across two api instances, 429 with Retry-After', async () => {
      const env = { AUTH_RATE_LIMIT_PER_MIN: '6', RATE_LIMIT_RPS: '0' };
      const [a, b] = [startExtraApp('api', E2E_PORT_BASE + 11, env), startExtraApp('api', E2E_PORT_BASE + 12, env)];
      extras.push(a, b);
      await Promise.all([a.ready(), b.ready()]);
      const victim = await registerUser('auth-limit');

      // Per account: six wrong passwords, alternating instances; the seventh is refused however right it is.
      const guesses = [];
      for (let i = 0; i < 6; i++)
        guesses.push((await post(i % 2 ? b.url : a.url, '/v1/auth/login', { email: victim.email, password: `guess-${i}-wrong` })).status);
      expect(guesses).toEqual([401, 401, 401, 401, 401, 401]);
      const blocked = await post(a.url, '/v1/auth/login', { email: victim.email, password: victim.password });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await blocked.json()).toMatchObject({
        statusCode: 429,
        error: 'Too Many Requests',
        message: expect.stringMatching(/sign-in attempts.*retry after/),
      });

      // Per IP: the same address has used its six attempts, so registration and other accounts are refused too.
      const other = await post(b.url, '/v1/accounts', { email: `${unique('auth-limit')}@example.test`, password: 'long enough password', name: 'X' });
      expect(other.status).toBe(429);
      // Routes that guess no password are not limited by it.
      expect((await fetch(`${b.url}/v1/items?limit=1`)).status).toBe(200);
    });

    it('ingest: unknown keys from one address are refused with 429 before the body is read, across instances', async () => {
      const env = { INGEST_KEY_FAILURES_PER_MIN: '4' };
      const [a, b] = [startExtraApp('ingest', E2E_PORT_BASE + 13, env), startExtraApp('ingest', E2E_PORT_BASE + 14, env)];
      extras.push(a, b);
      await Promise.all([a.ready(), b.ready()]);
      const events = [{ eventId: unique('e'), sku: 'SKU-1', type: 'delivery', quantity: 1, occurredAt: new Date().toISOString() }];
      const statuses = [];
      for (let i = 0; i < 6; i++)
        statuses.push((await post(i % 2 ? b.url : a.url, '/v1/stores/store-1/stock-events', events, { 'x-api-key': `guess-${i}` })).status);
      expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
      const refused = await post(a.url, '/v1/stores/store-1/stock-events', events, { 'x-api-key': 'guess-again' });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await refused.json()).toMatchObject({ statusCode: 429, message: expect.stringMatching(/unknown X-Api-Key/) });
    });
  });
});
