import 'reflect-metadata';
import { SagaQueues } from '@app/contracts';
import { APP_NAMES, appUrl, E2E_PORT_BASE, ExtraApp, killApp, startApp, startExtraApp, startProxy, TcpProxy, waitFor, waitReady } from '@app/testing';
import { HeldQueue, SagaProbe } from '../../shop/test/saga-probe';
import { buy, call, createItem, credit, registerUser, TestUser } from './support/commerce';
import { EventStream, openEventStream } from './support/sse';

jest.setTimeout(240_000);

const RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';
const PRICE = 100;
/** Extra instances' ports: beside the shared system's, away from the other suites' extras (+11..+14). */
const PORTS = { apiA: E2E_PORT_BASE + 21, apiB: E2E_PORT_BASE + 22, account: E2E_PORT_BASE + 23, proxied: E2E_PORT_BASE + 24, small: E2E_PORT_BASE + 25 };
const TERMINAL = ['COMPLETED', 'REJECTED', 'CANCELLED'];

const eventsPath = (purchaseId: string) => `/v1/purchases/${purchaseId}/events`;
const statuses = (stream: EventStream) => stream.events.map((e) => e.data.status);

/** A counter or gauge of an app's /metrics (summed over the series that carry every given label). */
async function metric(base: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (!match) continue;
    if (Object.entries(labels).every(([k, v]) => (match[1] ?? '').includes(`${k}="${v}"`))) sum += Number(match[2]);
  }
  return sum;
}

async function ended(stream: EventStream, timeoutMs = 60_000): Promise<void> {
  await waitFor('the stream to end', () => stream.isEnded(), { timeoutMs, intervalMs: 50 });
}

describe('GET /v1/purchases/{id}/events (e2e, real servers)', () => {
  let probe: SagaProbe;
  const holds: HeldQueue[] = [];
  const extras: ExtraApp[] = [];
  const proxies: TcpProxy[] = [];
  const streams: EventStream[] = [];

  beforeAll(async () => {
    probe = await SagaProbe.open(RABBITMQ_URL, []);
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    for (const hold of holds.splice(0)) await hold.release();
    for (const extra of extras.splice(0)) await extra.stop();
    for (const proxy of proxies.splice(0)) await proxy.close();
    // A test may have stopped a shared app: every one running and ready again.
    for (const name of APP_NAMES) {
      if (
        !(await fetch(`${appUrl(name)}/health/live`).then(
          (r) => r.ok,
          () => false,
        ))
      )
        startApp(name);
    }
    await Promise.all(APP_NAMES.map((name) => waitReady(name, 180_000)));
  }, 300_000);
  afterAll(async () => {
    await probe?.close();
  });

  async function buyer(): Promise<TestUser> {
    const user = await registerUser('stream');
    await credit(user.id, 100_000);
    return user;
  }

  /** Shop's inbox held, so purchases stay PENDING (RESERVING) until `release`. */
  async function holdShop(): Promise<HeldQueue> {
    const hold = await probe.hold(SagaQueues.Shop);
    holds.push(hold);
    return hold;
  }

  /** Buys `count` units one purchase each, and waits until shop's inbox holds the ReserveStock of every one. */
  async function pendingPurchases(user: TestUser, sku: string, hold: HeldQueue, count = 1): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const reply = await buy(user, sku);
      expect(reply.status).toBe(202);
      ids.push(reply.body.purchaseId);
    }
    await waitFor('shop to be asked to reserve every purchase', () => ids.every((id) => hold.held.some((m) => m.body.purchaseId === id)), {
      timeoutMs: 30_000,
    });
    return ids;
  }

  async function open(path: string, options: Parameters<typeof openEventStream>[1] = {}): Promise<EventStream> {
    const stream = await openEventStream(path, options);
    streams.push(stream);
    return stream;
  }

  it('follows a purchase to its end: the purchase as GET shows it, then each new status once, then the end', async () => {
    const user = await buyer();
    const sku = await createItem(5, PRICE);
    const hold = await holdShop();
    const [id] = await pendingPurchases(user, sku, hold);

    const before = await call('GET', `/v1/purchases/${id}`, { token: user.token });
    const stream = await open(eventsPath(id), { token: user.token });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('x-content-type-options')).toBe('nosniff');
    expect(stream.headers.get('cache-control')).toMatch(/no-store/);
    const first = await stream.event(0);
    const after = await call('GET', `/v1/purchases/${id}`, { token: user.token });
    // The first event is the purchase exactly as GET returns it (read between the two GETs).
    expect([before.body, after.body]).toContainEqual(first.data);
    expect(first.data.status).toBe('PENDING');
    // A plain `message` event (what EventSource's onmessage gets), its id the status it carries.
    expect(first.event).toBeUndefined();
    expect(first.id).toBe('PENDING');

    await hold.release();
    await ended(stream);
    expect(statuses(stream)).toEqual(['PENDING', 'COMPLETED']);
    const last = stream.events.at(-1)!;
    expect(last.id).toBe('COMPLETED');
    expect(last.data).toEqual((await call('GET', `/v1/purchases/${id}`, { token: user.token })).body);

    // Opened after the end: the terminal purchase, then the end at once.
    const late = await open(eventsPath(id), { token: user.token });
    await ended(late, 10_000);
    expect(late.events.map((e) => e.data)).toEqual([last.data]);
    // An EventSource reconnecting after the terminal event (Last-Event-ID: its status) is told to stop: 204.
    const resumed = await fetch(`${appUrl('api')}${eventsPath(id)}`, { headers: { authorization: `Bearer ${user.token}`, 'last-event-id': 'COMPLETED' } });
    expect(resumed.status).toBe(204);
  });

  it('ends a rejected purchase too, and answers 404 for another user’s or an unknown purchase and 401 without a token, as JSON', async () => {
    const user = await registerUser('stream-poor'); // no credit: REJECTED
    const other = await buyer();
    const sku = await createItem(5, PRICE);
    const id = (await buy(user, sku)).body.purchaseId as string;
    const stream = await open(eventsPath(id), { token: user.token });
    await ended(stream);
    const seen = statuses(stream);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.at(-1)).toBe('REJECTED');
    expect(stream.events.at(-1)!.data.reason).toMatch(/insufficient balance/);

    const theirs = await open(eventsPath(id), { token: other.token });
    expect(theirs.status).toBe(404);
    expect(theirs.headers.get('content-type')).toMatch(/^application\/json/);
    expect(theirs.body).toMatchObject({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
    const unknown = await open(eventsPath('8c6f1f0e-2b5e-4e55-9d0b-3c1f6a7e9a11'), { token: user.token });
    expect(unknown.status).toBe(404);
    const malformed = await open(eventsPath('not-a-purchase-id'), { token: user.token });
    expect(malformed.status).toBe(404);
    const anonymous = await open(eventsPath(id));
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
  });

  it('two api and two account instances: a purchase completed by the other account instance reaches the streams and long polls of every api instance', async () => {
    const [apiA, apiB] = [startExtraApp('api', PORTS.apiA), startExtraApp('api', PORTS.apiB)];
    const second = startExtraApp('account', PORTS.account);
    extras.push(apiA, apiB, second);
    await Promise.all([apiA.ready(), apiB.ready(), second.ready()]);
    const user = await buyer();
    const sku = await createItem(10, PRICE);
    const hold = await holdShop();
    const ids = await pendingPurchases(user, sku, hold, 3);

    const followed = await Promise.all(ids.flatMap((id) => [apiA, apiB].map((api) => open(eventsPath(id), { token: user.token, base: api.url }))));
    for (const stream of followed) expect((await stream.event(0)).data.status).toBe('PENDING');
    const polls = ids.flatMap((id) =>
      [apiA, apiB].map(async (api) => {
        const reply = await fetch(`${api.url}/v1/purchases/${id}?waitMs=20000`, { headers: { authorization: `Bearer ${user.token}` } });
        return { status: reply.status, body: await reply.json(), at: Date.now() };
      }),
    );

    // Every account instance's sweeper sees them open (the gauge is system-wide, not per instance).
    await waitFor('the second account to report purchases pending', async () => (await metric(second.url, 'purchases_oldest_pending_seconds')) > 0, {
      timeoutMs: 15_000,
    });
    // Only the second account instance is left to finish them.
    await killApp('account', 'SIGTERM');
    const completedBefore = await metric(second.url, 'purchase_outcomes_total', { status: 'COMPLETED' });
    const released = Date.now();
    await hold.release();

    await Promise.all(followed.map((stream) => ended(stream)));
    for (const stream of followed) expect(statuses(stream)).toEqual(['PENDING', 'COMPLETED']);
    for (const poll of await Promise.all(polls)) {
      expect(poll).toMatchObject({ status: 200, body: { status: 'COMPLETED' } });
      // Answered by the broadcast, not at the end of its 20 s wait.
      expect(poll.at - released).toBeLessThan(15_000);
    }
    expect((await metric(second.url, 'purchase_outcomes_total', { status: 'COMPLETED' })) - completedBefore).toBe(ids.length);
    expect(await metric(second.url, 'purchase_duration_seconds_count', { status: 'COMPLETED' })).toBeGreaterThanOrEqual(ids.length);
  });

  it('an api instance that missed the broadcast (its broker link cut while the purchase completed) still ends the stream with the terminal status', async () => {
    const proxy = await startProxy(5672);
    proxies.push(proxy);
    // Its timer reads again only every minute: what ends the stream here is the read on resubscribing.
    const api = startExtraApp('api', PORTS.proxied, { RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}`, PURCHASE_STREAM_RESYNC_MS: '60000' });
    extras.push(api);
    await api.ready();
    const user = await buyer();
    const sku = await createItem(5, PRICE);
    const hold = await holdShop();
    const [id] = await pendingPurchases(user, sku, hold);
    const stream = await open(eventsPath(id), { token: user.token, base: api.url });
    expect((await stream.event(0)).data.status).toBe('PENDING');

    proxy.reset();
    await waitFor('the api to see its broker gone', async () => (await fetch(`${api.url}/health/ready`)).status === 503, { timeoutMs: 30_000 });
    await hold.release();
    await waitFor('the purchase to complete', async () => (await call('GET', `/v1/purchases/${id}`, { token: user.token })).body.status === 'COMPLETED', {
      timeoutMs: 30_000,
    });
    expect(stream.events).toHaveLength(1);
    proxy.restore();

    await ended(stream, 45_000);
    expect(statuses(stream)).toEqual(['PENDING', 'COMPLETED']);
    expect(await metric(api.url, 'purchase_status_resync_changes_total')).toBeGreaterThanOrEqual(1);
  });

  it('bounds the streams (503 past PURCHASE_STREAMS_MAX, 429 past 8 a user), keeps them open with comments, and forgets those whose clients left', async () => {
    const api = startExtraApp('api', PORTS.small, { PURCHASE_STREAMS_MAX: '2', PURCHASE_STREAM_HEARTBEAT_MS: '300' });
    extras.push(api);
    await api.ready();
    const user = await buyer();
    const sku = await createItem(5, PRICE);
    const hold = await holdShop();
    const [id] = await pendingPurchases(user, sku, hold);

    const [one, two] = [await open(eventsPath(id), { token: user.token, base: api.url }), await open(eventsPath(id), { token: user.token, base: api.url })];
    expect([one.status, two.status]).toEqual([200, 200]);
    const refused = await open(eventsPath(id), { token: user.token, base: api.url });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.body).toMatchObject({ statusCode: 503, message: expect.stringMatching(/purchase streams/) });
    await waitFor('two heartbeats', () => one.comments.length >= 2, { timeoutMs: 10_000 });
    expect(await metric(api.url, 'purchase_streams_open')).toBe(2);

    one.close();
    two.close();
    await waitFor('the api to forget the streams whose clients left', async () => (await metric(api.url, 'purchase_streams_open')) === 0, {
      timeoutMs: 15_000,
    });
    const again = await open(eventsPath(id), { token: user.token, base: api.url });
    expect(again.status).toBe(200);
    again.close();

    // Per user, on an instance with room to spare.
    const mine = await Promise.all(Array.from({ length: 8 }, () => open(eventsPath(id), { token: user.token })));
    expect(mine.map((s) => s.status)).toEqual(Array(8).fill(200));
    const ninth = await open(eventsPath(id), { token: user.token });
    expect(ninth.status).toBe(429);
    expect(ninth.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/streams open/) });
    for (const stream of mine) stream.close();
    await waitFor('the api to forget them', async () => (await metric(appUrl('api'), 'purchase_streams_open')) === 0, { timeoutMs: 15_000 });
    await hold.release();
    const last = await open(eventsPath(id), { token: user.token });
    await ended(last);
    expect(TERMINAL).toContain(statuses(last).at(-1));
  });
});
