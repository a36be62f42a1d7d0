import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header the payment provider signs each webhook delivery with. */
export const PAYMENT_SIGNATURE_HEADER = 'payment-signature';

/** A delivery signed longer ago (or further ahead) than this is refused, so a captured one cannot be replayed later. */
export const SIGNATURE_TOLERANCE_S = 300;

/** A header longer than this is not one the provider sent (it carries a timestamp and a few 64-digit signatures). */
const MAX_HEADER_LENGTH = 4096;
/** Signatures looked at, at most (a provider rotating its secret sends two or three). */
const MAX_SIGNATURES = 8;

const TIMESTAMP = /^\d{1,12}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

const FORMAT = 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">';

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; problem: 'missing' | 'malformed' | 'mismatch' | 'stale'; message: string };

/** The `v1` signature of a body signed at `timestamp` (unix seconds): hex HMAC-SHA256 of "<t>.<raw body>". */
export function paymentSignature(secret: string, timestamp: number | string, rawBody: Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/**
 * Checks a `Payment-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]` header against the raw
 * body as received. Every v1 signature is compared in constant time with the expected one (any may
 * match: the provider signs with each secret it holds while rotating), and the timestamp must be
 * within {@link SIGNATURE_TOLERANCE_S} of `nowMs`. Other schemes in the header (`v0=`) are ignored.
 */
export function verifyPaymentSignature(
  header: string | string[] | undefined,
  rawBody: Buffer,
  secret: string,
  nowMs: number,
  toleranceS = SIGNATURE_TOLERANCE_S,
): SignatureCheck {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value === undefined || value.trim() === '') {
    return { ok: false, problem: 'missing', message: `The Payment-Signature header is missing; sign each delivery as ${FORMAT} with the webhook secret.` };
  }
  const parsed = value.length <= MAX_HEADER_LENGTH ? parseHeader(value) : undefined;
  if (!parsed) {
    return {
      ok: false,
      problem: 'malformed',
      message: `The Payment-Signature header is malformed; it must be ${FORMAT} (one t, one or more v1 of 64 hex digits).`,
    };
  }
  const expected = Buffer.from(paymentSignature(secret, parsed.t, rawBody), 'hex');
  let matched = false;
  // Every candidate is compared, so the time taken says nothing about which one came close.
  for (const candidate of parsed.signatures) matched = timingSafeEqual(Buffer.from(candidate, 'hex'), expected) || matched;
  if (!matched) {
    return {
      ok: false,
      problem: 'mismatch',
      message:
        'The Payment-Signature does not match the body: sign "<t>.<raw body>", the body exactly as sent, with HMAC-SHA256 and the webhook secret of this api.',
    };
  }
  const skewS = Math.abs(Math.floor(nowMs / 1000) - parsed.timestamp);
  if (skewS > toleranceS) {
    return {
      ok: false,
      problem: 'stale',
      message: `The Payment-Signature timestamp is ${skewS} s away from this server's clock (at most ${toleranceS} s are accepted): sign each delivery when it is sent, with a correct clock.`,
    };
  }
  return { ok: true, timestamp: parsed.timestamp };
}

/** The header's parts; `t` as sent (the signed text), undefined when it cannot be the provider's. */
function parseHeader(value: string): { t: string; timestamp: number; signatures: string[] } | undefined {
  let t: string | undefined;
  const signatures: string[] = [];
  for (const part of value.split(',')) {
    if (part.trim() === '') continue;
    const at = part.indexOf('=');
    if (at <= 0) return undefined;
    const key = part.slice(0, at).trim();
    const item = part.slice(at + 1).trim();
    if (key === 't') {
      if (t !== undefined || !TIMESTAMP.test(item)) return undefined;
      t = item;
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(item)) return undefined;
      if (signatures.length < MAX_SIGNATURES) signatures.push(item);
    }
  }
  return t !== undefined && signatures.length > 0 ? { t, timestamp: Number(t), signatures } : undefined;
}
