import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { appUrl, contractViolation, expectAllReady, internalsLeak, send, waitFor } from '@app/testing';
import { admin, balanceOf, call, credit, registerUser, TestUser } from './support/commerce';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '../../..');
/** The api's development secret: the test signs as the provider would, independently of the api's code. */
const SECRET = 'dev-only-payment-webhook-secret';

const now = () => Math.floor(Date.now() / 1000);
const signatureOf = (raw: string, t = now(), secret = SECRET) => `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex')}`;

interface Delivery {
  /** The raw body as sent; an object is serialised once, and that text is signed. */
  body: unknown;
  /** The Payment-Signature header; signed over the body now by default, none when null. */
  signature?: string | null;
  contentType?: string;
}

async function deliver({ body, signature, contentType = 'application/json' }: Delivery) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': contentType };
  const header = signature === undefined ? signatureOf(raw) : signature;
  if (header !== null) headers['payment-signature'] = header;
  const response = await fetch(`${appUrl('api')}/v1/payments/webhook`, { method: 'POST', headers, body: raw });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const paymentEvent = (paymentReference: string, amount: number, type = 'payment.succeeded', id = `evt_${randomUUID()}`) => ({
  id,
  type,
  data: { paymentReference, amount },
});

async function createTopUp(user: TestUser, amount: number) {
  const reply = await call('POST', '/v1/me/top-ups', { token: user.token, body: { amount } });
  expect(reply.status).toBe(201);
  return reply.body as { topUpId: string; status: string; amount: number; paymentReference: string };
}

async function statusOf(user: TestUser, topUpId: string): Promise<string> {
  const reply = await call('GET', `/v1/me/top-ups/${topUpId}`, { token: user.token });
  expect(reply.status).toBe(200);
  return reply.body.status;
}

describe('top-ups through the payment provider’s webhook (e2e)', () => {
  it('creates a PENDING top-up and shows it to its user only', async () => {
    const [user, other] = await Promise.all([registerUser('topup'), registerUser('topup-other')]);
    const created = await call('POST', '/v1/me/top-ups', { token: user.token, body: { amount: 2_500 } });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toEqual({ topUpId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'PENDING', amount: 2_500, paymentReference: expect.any(String) });
    const read = await call('GET', `/v1/me/top-ups/${created.body.topUpId}`, { token: user.token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);

    for (const path of [`/v1/me/top-ups/${created.body.topUpId}`, `/v1/me/top-ups/${randomUUID()}`, '/v1/me/top-ups/not-an-id']) {
      const reply = await call('GET', path, { token: path.includes(created.body.topUpId) ? other.token : user.token });
      expect(reply.status).toBe(404);
      expect(reply.body).toMatchObject({ statusCode: 404, error: 'Not Found', message: expect.stringMatching(/top-up/) });
    }
    expect((await call('POST', '/v1/me/top-ups', { body: { amount: 500 } })).status).toBe(401);
    expect((await call('GET', `/v1/me/top-ups/${created.body.topUpId}`)).status).toBe(401);
  });

  it('refuses an amount outside 100–1,000,000 cents or not a whole number, with 400', async () => {
    const user = await registerUser('topup-bad');
    for (const body of [{ amount: 99 }, { amount: 1_000_001 }, { amount: 150.5 }, { amount: '500' }, {}, { amount: 500, extra: 1 }]) {
      const reply = await call('POST', '/v1/me/top-ups', { token: user.token, body });
      expect({ body, status: reply.status }).toEqual({ body, status: 400 });
      expect(reply.body.message).toMatch(/amount|extra/);
    }
    for (const amount of [100, 1_000_000]) expect((await call('POST', '/v1/me/top-ups', { token: user.token, body: { amount } })).status).toBe(201);
  });

  it('a succeeded payment credits exactly the amount once; a replay or another event for the reference changes nothing', async () => {
    const user = await registerUser('topup-pay');
    await credit(user.id, 1_000);
    const topUp = await createTopUp(user, 4_200);
    const paid = paymentEvent(topUp.paymentReference, 4_200);

    const first = await deliver({ body: paid });
    expect(first).toEqual({ status: 200, body: { received: true } });
    // Durable before the 200: the balance and the status say so at once, no waiting.
    expect(await balanceOf(user)).toBe(5_200);
    expect(await statusOf(user, topUp.topUpId)).toBe('SUCCEEDED');

    expect(await deliver({ body: paid })).toEqual({ status: 200, body: { received: true } });
    expect(await deliver({ body: paymentEvent(topUp.paymentReference, 4_200) })).toEqual({ status: 200, body: { received: true } });
    // A failure reported later cannot undo a SUCCEEDED top-up.
    expect((await deliver({ body: paymentEvent(topUp.paymentReference, 4_200, 'payment.failed') })).status).toBe(200);
    expect(await balanceOf(user)).toBe(5_200);
    expect(await statusOf(user, topUp.topUpId)).toBe('SUCCEEDED');
  });

  it('refuses a forged, tampered, malformed, missing or stale signature with 401, and changes nothing', async () => {
    const user = await registerUser('topup-forged');
    const topUp = await createTopUp(user, 800);
    const raw = JSON.stringify(paymentEvent(topUp.paymentReference, 800));
    const t = now();
    const cases: [string, Delivery, RegExp][] = [
      ['another secret', { body: raw, signature: signatureOf(raw, t, 'not-the-provider-secret') }, /does not match/],
      ['a tampered body', { body: raw.replace('800', '80000'), signature: signatureOf(raw, t) }, /does not match/],
      ['the body re-serialised', { body: JSON.stringify(JSON.parse(raw), null, 2), signature: signatureOf(raw, t) }, /does not match/],
      ['another timestamp', { body: raw, signature: signatureOf(raw, t).replace(`t=${t}`, `t=${t - 1}`) }, /does not match/],
      ['no header', { body: raw, signature: null }, /missing/],
      ['a malformed header', { body: raw, signature: 'sha256=deadbeef' }, /malformed/],
      ['a stale timestamp (now − 301 s)', { body: raw, signature: signatureOf(raw, t - 301) }, /s away/],
      ['a timestamp from the future (now + 301 s)', { body: raw, signature: signatureOf(raw, t + 301) }, /s away/],
      ['a malformed body with a forged signature', { body: '{"id": nope', signature: signatureOf('{"id": nope', t, 'forged') }, /does not match/],
    ];
    for (const [what, delivery, message] of cases) {
      const reply = await deliver(delivery);
      expect({ what, status: reply.status }).toEqual({ what, status: 401 });
      expect(reply.body).toMatchObject({
        statusCode: 401,
        error: 'Unauthorized',
        message: expect.stringMatching(message),
        code: expect.stringMatching(/^WEBHOOK\./),
      });
    }
    // Without a body or a content type at all: refused the same way, and the api keeps serving.
    const bare: Record<string, string>[] = [{}, { 'payment-signature': signatureOf('') }, { 'content-type': 'text/plain' }];
    for (const headers of bare) {
      const reply = await fetch(`${appUrl('api')}/v1/payments/webhook`, { method: 'POST', headers });
      expect({ headers, status: reply.status }).toEqual({ headers, status: 'payment-signature' in headers ? 400 : 401 });
    }
    expect((await fetch(`${appUrl('api')}/health/live`)).status).toBe(200);
    expect(await balanceOf(user)).toBe(0);
    expect(await statusOf(user, topUp.topUpId)).toBe('PENDING');
  });

  it('an authentic but malformed body is a 400 that says what is wrong', async () => {
    const user = await registerUser('topup-malformed');
    const topUp = await createTopUp(user, 800);
    const bodies: unknown[] = [
      '{"id": nope',
      '[]',
      { id: 'evt_x', type: 'payment.refunded', data: { paymentReference: topUp.paymentReference, amount: 800 } },
      { id: 'evt_x', type: 'payment.succeeded', data: { paymentReference: topUp.paymentReference, amount: '800' } },
      { id: 'evt_x', type: 'payment.succeeded' },
      { type: 'payment.succeeded', data: { paymentReference: topUp.paymentReference, amount: 800 } },
    ];
    for (const body of bodies) {
      const reply = await deliver({ body });
      expect({ body, status: reply.status }).toEqual({ body, status: 400 });
      expect(reply.body).toMatchObject({ statusCode: 400, message: expect.any(String) });
    }
    expect(await statusOf(user, topUp.topUpId)).toBe('PENDING');
  });

  it('an unknown reference or a wrong amount is a 422 the provider can act on; nothing is credited', async () => {
    const user = await registerUser('topup-422');
    const topUp = await createTopUp(user, 1_500);
    const unknown = await deliver({ body: paymentEvent(`pay_${randomUUID().replaceAll('-', '')}`, 1_500) });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({
      statusCode: 422,
      error: 'Unprocessable Entity',
      message: expect.stringMatching(/payment reference/),
      code: 'TOP_UP.UNKNOWN_PAYMENT_REFERENCE',
    });
    const wrong = paymentEvent(topUp.paymentReference, 1_499);
    const mismatch = await deliver({ body: wrong });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body).toMatchObject({ statusCode: 422, message: expect.stringMatching(/1499.*1500/), code: 'TOP_UP.AMOUNT_MISMATCH' });
    // The same event again is refused again (it was never applied), and the right amount still goes through.
    expect((await deliver({ body: wrong })).status).toBe(422);
    expect(await balanceOf(user)).toBe(0);
    expect(await statusOf(user, topUp.topUpId)).toBe('PENDING');
    expect((await deliver({ body: paymentEvent(topUp.paymentReference, 1_500) })).status).toBe(200);
    expect(await balanceOf(user)).toBe(1_500);
  });

  it('a failed payment marks the top-up FAILED and credits nothing; tolerates fields it does not know', async () => {
    const user = await registerUser('topup-failed');
    const topUp = await createTopUp(user, 600);
    const failed = {
      ...paymentEvent(topUp.paymentReference, 600, 'payment.failed'),
      created: now(),
      data: { paymentReference: topUp.paymentReference, amount: 600, reason: 'card_declined' },
    };
    expect(await deliver({ body: failed })).toEqual({ status: 200, body: { received: true } });
    expect(await statusOf(user, topUp.topUpId)).toBe('FAILED');
    expect(await deliver({ body: failed })).toEqual({ status: 200, body: { received: true } });
    expect(await balanceOf(user)).toBe(0);
  });

  it('20 concurrent deliveries of one event credit once', async () => {
    const user = await registerUser('topup-burst');
    const topUp = await createTopUp(user, 3_000);
    const paid = paymentEvent(topUp.paymentReference, 3_000);
    const replies = await Promise.all(Array.from({ length: 20 }, () => deliver({ body: paid })));
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(await balanceOf(user)).toBe(3_000);
    expect(await statusOf(user, topUp.topUpId)).toBe('SUCCEEDED');
  });

  it('whatever the body or signature header, signed or forged: never a 5xx, never a stopped process', async () => {
    const user = await registerUser('topup-fuzz');
    const topUp = await createTopUp(user, 700);
    const near = fc.record(
      {
        id: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue()),
        type: fc.oneof(fc.constantFrom('payment.succeeded', 'payment.failed'), fc.jsonValue()),
        data: fc.oneof(
          fc.record(
            {
              paymentReference: fc.oneof(fc.constant(topUp.paymentReference), fc.string({ unit: 'binary', maxLength: 200 }), fc.jsonValue()),
              amount: fc.oneof(fc.constantFrom(700, 0, -1, 2 ** 53 + 1, 1e21, 7.5), fc.jsonValue()),
            },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    );
    const bodies = [
      ...fc.sample(
        fc.jsonValue().map((v) => JSON.stringify(v)),
        { numRuns: 60, seed: 12 },
      ),
      ...fc.sample(
        near.map((v) => JSON.stringify(v)),
        { numRuns: 120, seed: 13 },
      ),
      `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      '\u0000',
      '',
    ];
    const t = now();
    const headers = [
      '',
      't=',
      'v1=',
      ',,,',
      `t=${'9'.repeat(400)},v1=${'a'.repeat(64)}`,
      `t=${t},v1=${'a'.repeat(64)},`.repeat(80),
      `t=${t},v1=\u00e9${'a'.repeat(63)}`,
      `t=${t},v1=${'z'.repeat(10_000)}`,
    ];
    const problems: string[] = [];
    const check = (label: string, reply: Awaited<ReturnType<typeof send>>) => {
      for (const problem of [contractViolation(reply), reply.status >= 400 ? internalsLeak(reply) : undefined])
        if (problem) problems.push(`${label}: ${problem}`);
    };
    for (const [i, raw] of bodies.entries()) {
      const url = `${appUrl('api')}/v1/payments/webhook`;
      check(
        `signed body ${i} ${raw.slice(0, 80)}`,
        await send('POST', url, { headers: { 'content-type': 'application/json', 'payment-signature': signatureOf(raw) }, body: raw }),
      );
      check(
        `forged body ${i}`,
        await send('POST', url, { headers: { 'content-type': 'application/json', 'payment-signature': signatureOf(raw, t, 'x') }, body: raw }),
      );
    }
    for (const header of headers) {
      const reply = await send('POST', `${appUrl('api')}/v1/payments/webhook`, {
        headers: { 'content-type': 'application/json', 'payment-signature': header },
        body: '{}',
      });
      check(`header ${header.slice(0, 60)}`, reply);
      if (reply.status !== 0 && reply.status !== 431)
        expect({ header: header.slice(0, 60), status: reply.status }).toEqual({ header: header.slice(0, 60), status: 401 });
    }
    expect(problems).toEqual([]);
    await expectAllReady();
    // Only the one valid event the fuzz may have produced can have credited it, and at most once.
    expect([0, 700]).toContain(await balanceOf(user));
  });

  it('`npm run pay` signs and delivers the event as the provider would, and the top-up is credited', async () => {
    const user = await registerUser('topup-sim');
    const topUp = await createTopUp(user, 1_234);
    const child = spawn('npm', ['run', '--silent', 'pay', '--', topUp.paymentReference, '--amount', '1234', '--url', appUrl('api')], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'development', PAYMENT_WEBHOOK_SECRET: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, output }).toEqual({ code: 0, output: expect.stringMatching(/delivered: HTTP 200/) });
    expect(await balanceOf(user)).toBe(1_234);
    expect(await statusOf(user, topUp.topUpId)).toBe('SUCCEEDED');
  });
  it('the operators see top-ups by status in /v1/ops/health, each counted once as it moves', async () => {
    const token = await admin();
    const countsNow = async () => (await call('GET', '/v1/ops/health', { token })).body.topUps as Record<string, number>;
    const before = await countsNow();
    expect(before).toEqual({ PENDING: expect.any(Number), SUCCEEDED: expect.any(Number), FAILED: expect.any(Number) });
    const user = await registerUser('topup-ops');
    const [paid, failed] = [await createTopUp(user, 1_200), await createTopUp(user, 800)];
    await waitFor('two more PENDING', async () => (await countsNow()).PENDING === before.PENDING + 2 || undefined);
    expect((await deliver({ body: paymentEvent(paid.paymentReference, 1_200) })).status).toBe(200);
    expect((await deliver({ body: paymentEvent(failed.paymentReference, 800, 'payment.failed') })).status).toBe(200);
    // Nothing else tops up while this suite runs: each top-up counts once, in its status now.
    const after = await waitFor('the moves to be counted', async () => {
      const counts = await countsNow();
      return counts.SUCCEEDED === before.SUCCEEDED + 1 && counts.FAILED === before.FAILED + 1 ? counts : undefined;
    });
    expect(after).toEqual({ PENDING: before.PENDING, SUCCEEDED: before.SUCCEEDED + 1, FAILED: before.FAILED + 1 });
  });
});
