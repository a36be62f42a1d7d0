import 'reflect-metadata';
import { SendMail } from '@app/contracts';
import { waitFor } from '@app/testing';
import { Broker, DEAD_LETTER_REASON, mailerCounter, mailsTo, uniqueAddress } from './mail-test-support';

describe('mailer: mail.send', () => {
  let broker: Broker;

  beforeAll(async () => {
    broker = await Broker.connect();
  });

  afterAll(async () => {
    await broker.close();
  });

  it('sends a purchase confirmation once, with plain-text and HTML bodies, however often it is requested', async () => {
    const to = uniqueAddress('completed');
    const request: SendMail = {
      to,
      kind: 'purchase-completed',
      data: { name: 'Ann', purchaseId: 'p-123', sku: 'TV-55', quantity: 2, amount: 129998 },
    };
    const messageId = `purchase-completed:${to}`;
    const duplicatesBefore = await mailerCounter('mailer_requests_total', { kind: 'purchase-completed', outcome: 'duplicate' });

    await Promise.all(Array.from({ length: 5 }, () => broker.sendMail(request, messageId)));

    const [mail] = await waitFor('the confirmation to arrive', async () => ((await mailsTo(to)).length > 0 ? mailsTo(to) : false));
    expect(mail.subject).toBe('Your purchase of 2 × TV-55 is confirmed');
    expect(mail.text).toContain('$1,299.98');
    expect(mail.html).toContain('$1,299.98');
    expect(mail.html).toContain('<p>');
    expect(mail.headers['x-mail-id']).toBe(messageId);

    // The four other deliveries were handled (as duplicates, possibly after a retry) and sent nothing.
    await waitFor(
      'the repeated requests to be recognised as already sent',
      async () => (await mailerCounter('mailer_requests_total', { kind: 'purchase-completed', outcome: 'duplicate' })) >= duplicatesBefore + 4,
      { timeoutMs: 30_000 },
    );
    expect(await mailsTo(to)).toHaveLength(1);
  });

  it('sends each kind with its own template', async () => {
    const to = uniqueAddress('kinds');
    const requests: [string, SendMail][] = [
      [`welcome:${to}`, { to, kind: 'welcome', data: { name: 'Bo' } }],
      [
        `purchase-cancelled:${to}`,
        { to, kind: 'purchase-cancelled', data: { purchaseId: 'p-9', sku: 'S-1', quantity: 1, amount: 500, reason: 'out of stock' } },
      ],
      [`price-drop:${to}`, { to, kind: 'price-drop', data: { sku: 'S-1', itemName: 'Kettle', oldPrice: 2500, newPrice: 1999 } }],
    ];
    for (const [id, request] of requests) await broker.sendMail(request, id);

    const mails = await waitFor('three mails', async () => {
      const got = await mailsTo(to);
      return got.length === 3 ? got : false;
    });
    expect(mails.map((m) => m.subject).sort()).toEqual([
      'Price drop: Kettle is now $19.99',
      'Welcome to Retail',
      'Your purchase of 1 × S-1 was cancelled and refunded',
    ]);
  });

  it('dead-letters poison requests at once to mail.send.dlq with the reason, and counts them', async () => {
    const to = uniqueAddress('poison');
    const poison: Record<string, string> = {
      [`poison-json:${to}`]: '{ not json',
      [`poison-kind:${to}`]: JSON.stringify({ to, kind: 'birthday', data: {} }),
      [`poison-to:${to}`]: JSON.stringify({ to: 'not an address', kind: 'welcome', data: {} }),
      [`poison-data:${to}`]: JSON.stringify({ to, kind: 'purchase-completed', data: { purchaseId: 'p', sku: 'S', quantity: 1 } }),
    };
    const before = await mailerCounter('messages_dead_lettered_total', { source: 'mail.send' });

    for (const [id, body] of Object.entries(poison)) await broker.sendRaw(body, id);

    const dead = await broker.takeDeadLettered(new Set(Object.keys(poison)));
    const reason = (id: string) => String(dead.get(id)!.properties.headers?.[DEAD_LETTER_REASON]);
    expect(reason(`poison-json:${to}`)).toMatch(/not JSON/);
    expect(reason(`poison-kind:${to}`)).toMatch(/kind must be one of/);
    expect(reason(`poison-to:${to}`)).toMatch(/to must be an email/);
    expect(reason(`poison-data:${to}`)).toMatch(/MAIL\.INVALID_DATA.*amount/);
    for (const message of dead.values()) expect(message.properties.headers?.['x-original-queue']).toBe('mail.send');

    expect(await mailerCounter('messages_dead_lettered_total', { source: 'mail.send' })).toBeGreaterThanOrEqual(before + 4);
    expect(await mailsTo(to)).toHaveLength(0);
  });
});
