/**
 * A payment provider for development and tests: tells the api that the payment of a top-up
 * succeeded (or failed), as the provider's webhook would, and retries until it gets a 2xx:
 *   npm run pay -- <paymentReference> --amount N [--fail] [--url http://127.0.0.1:3000] [--id EVENT_ID] [--retries 6]
 * The amount is the top-up's, in cents (the answer of POST /v1/me/top-ups has both; the simulator
 * cannot read the top-up, which needs the user's token). Each delivery is signed as the provider
 * signs it: `Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with
 * PAYMENT_WEBHOOK_SECRET (default: the development secret). Re-sent with the same event id, so
 * the api applies it once however many deliveries it takes. A development tool, never part of the
 * api: it refuses to run with NODE_ENV=production.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

const DEV_SECRET = 'dev-only-payment-webhook-secret';

function usage(message?: string): never {
  if (message) process.stderr.write(`pay: ${message}\n`);
  process.stderr.write('usage: npm run pay -- <paymentReference> --amount CENTS [--fail] [--url URL] [--id EVENT_ID] [--retries N]\n');
  process.exit(2);
}

if (process.env.NODE_ENV === 'production') {
  process.stderr.write('pay: refusing to run with NODE_ENV=production; this simulates the payment provider for development and tests only.\n');
  process.exit(2);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      amount: { type: 'string' },
      fail: { type: 'boolean', default: false },
      url: { type: 'string', default: process.env.API_URL ?? 'http://127.0.0.1:3000' },
      id: { type: 'string' },
      retries: { type: 'string', default: '6' },
    },
  });
}
try {
  parsed = parse();
} catch (error) {
  usage((error as Error).message);
}
const { values, positionals } = parsed;
const reference = positionals[0];
if (!reference || positionals.length > 1) usage('give exactly one payment reference');
if (values.amount === undefined) usage("--amount is required: the top-up's amount in cents, as POST /v1/me/top-ups answered it");
const amount = Number(values.amount);
if (!Number.isSafeInteger(amount) || amount < 0) usage('--amount must be a whole number of cents');
const retries = Number(values.retries);
if (!Number.isInteger(retries) || retries < 0 || retries > 20) usage('--retries must be 0 to 20');
const secret = process.env.PAYMENT_WEBHOOK_SECRET || DEV_SECRET;
const endpoint = `${values.url!.replace(/\/+$/, '')}/v1/payments/webhook`;
const eventId = values.id ?? `evt_${randomUUID().replaceAll('-', '')}`;
const type = values.fail ? 'payment.failed' : 'payment.succeeded';
const body = JSON.stringify({ id: eventId, type, data: { paymentReference: reference, amount } });

/** One delivery, signed now (a provider signs every attempt afresh, so a retry is never stale). */
async function deliver(): Promise<{ status: number; text: string }> {
  const t = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'payment-signature': `t=${t},v1=${signature}` },
    body,
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, text: await response.text() };
}

async function main(): Promise<void> {
  process.stdout.write(`${type} ${eventId} for ${reference} (${amount} cents) → ${endpoint}\n`);
  for (let attempt = 0; ; attempt++) {
    let outcome: string;
    try {
      const { status, text } = await deliver();
      if (status >= 200 && status < 300) {
        process.stdout.write(`delivered: HTTP ${status} ${text}\n`);
        return;
      }
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: shown as it is
      }
      outcome = `HTTP ${status}: ${message}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      outcome = `no answer: ${cause?.code ?? cause?.message ?? (error as Error).message}`;
    }
    if (attempt >= retries) {
      process.stderr.write(`attempt ${attempt + 1}: ${outcome}\npay: gave up after ${attempt + 1} attempt(s) without a 2xx\n`);
      process.exit(1);
    }
    const delay = Math.round(Math.min(8_000, 250 * 2 ** attempt) * (0.75 + Math.random() / 2));
    process.stderr.write(`attempt ${attempt + 1}: ${outcome}; retrying in ${delay} ms\n`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

main().catch((error: Error) => {
  process.stderr.write(`pay failed: ${error.message}\n`);
  process.exit(1);
});
