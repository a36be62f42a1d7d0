import { createHmac } from 'node:crypto';
import { paymentSignature, SIGNATURE_TOLERANCE_S, verifyPaymentSignature as sut } from './payment-signature';

const SECRET = 'dev-only-payment-webhook-secret';
const NOW_MS = 1_767_225_600_000;
const NOW_S = NOW_MS / 1000;
const body = Buffer.from('{"id":"evt_1","type":"payment.succeeded","data":{"paymentReference":"pay_1","amount":500}}');

/** How the provider signs, written out independently of the code under test. */
const sign = (t: number | string, raw: Buffer = body, secret = SECRET) =>
  createHmac('sha256', secret)
    .update(`${t}.${raw.toString('utf8')}`)
    .digest('hex');

describe('verifyPaymentSignature', () => {
  it('accepts the provider’s signature of the raw body, and says when it was signed', () => {
    expect(sut(`t=${NOW_S},v1=${sign(NOW_S)}`, body, SECRET, NOW_MS)).toEqual({ ok: true, timestamp: NOW_S });
    expect(paymentSignature(SECRET, NOW_S, body)).toBe(sign(NOW_S));
  });

  it('accepts any of several v1 signatures (a provider rotating its secret), ignores other schemes, spaces and upper-case hex', () => {
    const header = ` t=${NOW_S}, v0=abc, v1=${sign(NOW_S, body, 'the-old-secret')}, v1=${sign(NOW_S).toUpperCase()} `;
    expect(sut(header, body, SECRET, NOW_MS).ok).toBe(true);
    expect(sut([`t=${NOW_S}`, `v1=${sign(NOW_S)}`], body, SECRET, NOW_MS).ok).toBe(true);
  });

  it('refuses a missing or empty header', () => {
    for (const header of [undefined, '', '   ']) expect(sut(header, body, SECRET, NOW_MS)).toMatchObject({ ok: false, problem: 'missing' });
  });

  it.each([
    ['no t', `v1=${'a'.repeat(64)}`],
    ['no v1', `t=${NOW_S}`],
    ['two t', `t=${NOW_S},t=${NOW_S},v1=${'a'.repeat(64)}`],
    ['a t that is not unix seconds', `t=2026-01-01,v1=${'a'.repeat(64)}`],
    ['a negative t', `t=-5,v1=${'a'.repeat(64)}`],
    ['a v1 that is not 64 hex digits', `t=${NOW_S},v1=${'a'.repeat(63)}`],
    ['a v1 with a non-hex digit', `t=${NOW_S},v1=${'g'.repeat(64)}`],
    ['a part without =', `t=${NOW_S},v1=${'a'.repeat(64)},garbage`],
    ['an enormous header', `t=${NOW_S},${`v1=${'a'.repeat(64)},`.repeat(100)}`],
  ])('refuses a malformed header: %s', (_what, header) => {
    expect(sut(header, body, SECRET, NOW_MS)).toMatchObject({ ok: false, problem: 'malformed', message: expect.stringMatching(/t=<unix seconds>/) });
  });

  it('refuses a signature made with another secret, over another body, or for another timestamp', () => {
    expect(sut(`t=${NOW_S},v1=${sign(NOW_S, body, 'not-the-secret')}`, body, SECRET, NOW_MS)).toMatchObject({ ok: false, problem: 'mismatch' });
    const tampered = Buffer.from(body.toString('utf8').replace('500', '5000'));
    expect(sut(`t=${NOW_S},v1=${sign(NOW_S)}`, tampered, SECRET, NOW_MS)).toMatchObject({ ok: false, problem: 'mismatch' });
    expect(sut(`t=${NOW_S + 1},v1=${sign(NOW_S)}`, body, SECRET, NOW_MS)).toMatchObject({ ok: false, problem: 'mismatch' });
  });

  it('checks the bytes as sent: the same JSON with other whitespace is another body', () => {
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8')), null, 2));
    expect(sut(`t=${NOW_S},v1=${sign(NOW_S)}`, reformatted, SECRET, NOW_MS)).toMatchObject({ ok: false, problem: 'mismatch' });
  });

  it('signs the timestamp as the header wrote it (leading zeros included)', () => {
    expect(sut(`t=0${NOW_S},v1=${sign(`0${NOW_S}`)}`, body, SECRET, NOW_MS).ok).toBe(true);
    expect(sut(`t=0${NOW_S},v1=${sign(NOW_S)}`, body, SECRET, NOW_MS)).toMatchObject({ ok: false, problem: 'mismatch' });
  });

  it(`accepts a timestamp up to ${SIGNATURE_TOLERANCE_S} s away either way, and refuses one further`, () => {
    for (const t of [NOW_S - SIGNATURE_TOLERANCE_S, NOW_S + SIGNATURE_TOLERANCE_S]) expect(sut(`t=${t},v1=${sign(t)}`, body, SECRET, NOW_MS).ok).toBe(true);
    for (const t of [NOW_S - SIGNATURE_TOLERANCE_S - 1, NOW_S + SIGNATURE_TOLERANCE_S + 1, 0]) {
      expect(sut(`t=${t},v1=${sign(t)}`, body, SECRET, NOW_MS)).toMatchObject({ ok: false, problem: 'stale', message: expect.stringMatching(/s away/) });
    }
  });

  it('verifies an empty body like any other', () => {
    const empty = Buffer.alloc(0);
    expect(sut(`t=${NOW_S},v1=${sign(NOW_S, empty)}`, empty, SECRET, NOW_MS).ok).toBe(true);
  });

  it('never names the secret or the expected signature in its messages', () => {
    const check = sut(`t=${NOW_S},v1=${'0'.repeat(64)}`, body, SECRET, NOW_MS);
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.message).not.toContain(SECRET);
      expect(check.message).not.toContain(sign(NOW_S));
    }
  });
});
