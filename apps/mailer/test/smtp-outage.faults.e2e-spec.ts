import 'reflect-metadata';
import { SendMail } from '@app/contracts';
import { APP_NAMES, infra, waitFor, waitReady } from '@app/testing';
import { Broker, MAILDEV_URL, mailerCounter, mailsTo, uniqueAddress } from './mail-test-support';

const OUTAGE_MS = 30_000;

async function maildevAnswers(): Promise<boolean> {
  return fetch(`${MAILDEV_URL}/email`).then(
    (r) => r.ok,
    () => false,
  );
}

describe('mailer: the SMTP server is down for 30 s', () => {
  let broker: Broker;

  beforeAll(async () => {
    broker = await Broker.connect();
  });

  afterAll(async () => {
    // Whatever happened, leave the system as we found it.
    if (!(await maildevAnswers())) infra('up', 'maildev');
    await Promise.all(APP_NAMES.map((name) => waitReady(name)));
    await broker.close();
  });

  it('delivers every mail requested during the outage after it returns, each exactly once', async () => {
    const to = uniqueAddress('outage');
    const requests = Array.from({ length: 10 }, (_, i): [string, SendMail] => [
      `outage:${to}:${i}`,
      { to, kind: 'purchase-completed', data: { purchaseId: `p-${i}`, sku: 'SKU-OUT', quantity: 1, amount: 100 + i } },
    ]);

    infra('down', 'maildev');
    const outageStarted = Date.now();
    for (const [id, request] of requests) await broker.sendMail(request, id);
    // A request delivered twice during the outage must still become one mail.
    await broker.sendMail(requests[0][1], requests[0][0]);
    await waitFor('the mailer to see the outage', async () => (await mailerCounter('mailer_requests_total', { outcome: 'retried' })) > 0);
    // The outage itself lasts 30 s: this wait is the fault being injected, not a wait for an effect.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageStarted))));
    infra('up', 'maildev');

    const mails = await waitFor(
      'all ten mails after SMTP returned',
      async () => {
        const got = await mailsTo(to);
        return got.length >= requests.length ? got : false;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const ids = mails.map((m) => m.headers['x-mail-id']).sort();
    expect(ids).toEqual(requests.map(([id]) => id).sort());

    // Replays after the fact are recognised as sent and mail nothing more.
    const duplicatesBefore = await mailerCounter('mailer_requests_total', { outcome: 'duplicate' });
    for (const [id, request] of requests) await broker.sendMail(request, id);
    await waitFor(
      'the replays to be handled',
      async () => (await mailerCounter('mailer_requests_total', { outcome: 'duplicate' })) >= duplicatesBefore + requests.length,
    );
    expect(await mailsTo(to)).toHaveLength(requests.length);
  }, 240_000);
});
