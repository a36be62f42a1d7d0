import 'reflect-metadata';
import { SendMail } from '@app/contracts';
import { killApp, restartApp, waitFor } from '@app/testing';
import { Broker, mailsTo, uniqueAddress } from './mail-test-support';

const MAILS = 400;
/** Unacked deliveries per consumer: the most sends a crash can catch between SMTP accept and the record. */
const PREFETCH = 32;

describe('mailer: kill -9 in the middle of a burst', () => {
  let broker: Broker;

  beforeAll(async () => {
    broker = await Broker.connect();
  });

  // A restart waits for readiness, which includes joining the mailer's Kafka consumer group.
  afterAll(async () => {
    await restartApp('mailer'); // back to the default settings
    await broker.close();
  }, 120_000);

  it('loses no mail, and can send twice only what the crash caught between SMTP accept and the record', async () => {
    const to = uniqueAddress('crash');
    const ids = Array.from({ length: MAILS }, (_, i) => `crash:${to}:${i}`);
    await Promise.all(ids.map((id, i) => broker.sendMail({ to, kind: 'welcome', data: { name: `n${i}` } } satisfies SendMail, id)));

    await waitFor('part of the burst to be sent', async () => (await mailsTo(to)).length >= MAILS / 10, { intervalMs: 20 });
    await killApp('mailer', 'SIGKILL');
    const atKill = (await mailsTo(to)).length;
    // A short lease so the claims the dead process left behind are taken over within the test.
    await restartApp('mailer', { MAIL_CLAIM_LEASE_SECONDS: '30' });

    const mails = await waitFor(
      'every mail of the burst',
      async () => {
        const got = await mailsTo(to);
        return new Set(got.map((m) => m.headers['x-mail-id'])).size === MAILS ? got : false;
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    );
    const copies = mails.length - MAILS;
    process.stdout.write(`mailer crash: ${atKill}/${MAILS} sent at the kill, ${copies} sent twice\n`);
    expect(copies).toBeLessThanOrEqual(PREFETCH);
  }, 300_000);
});
