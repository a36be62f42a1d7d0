import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { Transporter } from 'nodemailer';
import { DomainError, SendMail } from '@app/contracts';
import { MailerEnv } from '../config/mailer.env';
import { ClaimOutcome, MailLogRepository } from './mail-log.repository';
import { MailErrorCodes, MailSenderService, rfc5322MessageId } from './mail-sender.service';

describe(MailSenderService.name, () => {
  const request: SendMail = { to: 'ann@example.com', kind: 'welcome', data: { name: 'Ann' } };
  let log: jest.Mocked<Pick<MailLogRepository, 'claim' | 'takeOver' | 'markSent' | 'release'>>;
  let transport: { sendMail: jest.Mock };
  let sut: MailSenderService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    log = {
      claim: jest.fn<Promise<ClaimOutcome>, never[]>().mockResolvedValue({ claimed: true }),
      takeOver: jest.fn().mockResolvedValue(true),
      markSent: jest.fn().mockResolvedValue(undefined),
      release: jest.fn().mockResolvedValue(undefined),
    } as never;
    transport = { sendMail: jest.fn().mockResolvedValue({ messageId: 'x' }) };
    const env = Object.assign(new MailerEnv(), { MAIL_CLAIM_LEASE_SECONDS: 120 });
    sut = new MailSenderService(transport as unknown as Transporter, log as unknown as MailLogRepository, env);
  });

  it('claims the id, sends text and HTML with a stable Message-ID, then marks it sent', async () => {
    await expect(sut.send(request, 'welcome:u1', 'c1')).resolves.toBe('sent');
    expect(log.claim).toHaveBeenCalledWith('welcome:u1', expect.any(String), 'ann@example.com', 'welcome');
    const mail = transport.sendMail.mock.calls[0][0];
    expect(mail).toMatchObject({ to: 'ann@example.com', subject: 'Welcome to Retail', messageId: rfc5322MessageId('welcome:u1') });
    expect(mail.text).toContain('Hello Ann');
    expect(mail.html).toContain('Hello Ann');
    expect(log.markSent).toHaveBeenCalledWith('welcome:u1', log.claim.mock.calls[0][1], 'Welcome to Retail');
    expect(log.claim.mock.invocationCallOrder[0]).toBeLessThan(transport.sendMail.mock.invocationCallOrder[0]);
    expect(transport.sendMail.mock.invocationCallOrder[0]).toBeLessThan(log.markSent.mock.invocationCallOrder[0]);
  });

  it('sends nothing for an id already sent', async () => {
    log.claim.mockResolvedValue({ claimed: false, existing: { state: 'sent', claimToken: 't', claimedAt: new Date() } });
    await expect(sut.send(request, 'welcome:u1', 'c1')).resolves.toBe('duplicate');
    expect(transport.sendMail).not.toHaveBeenCalled();
  });

  it('asks for a retry while another delivery of the same id is being sent', async () => {
    log.claim.mockResolvedValue({ claimed: false, existing: { state: 'sending', claimToken: 't', claimedAt: new Date() } });
    const error = await sut.send(request, 'welcome:u1', 'c1').catch((e: DomainError) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).retryable).toBe(true);
    expect(transport.sendMail).not.toHaveBeenCalled();
  });

  it('takes over a claim older than the lease and sends', async () => {
    log.claim.mockResolvedValue({ claimed: false, existing: { state: 'sending', claimToken: 'old', claimedAt: new Date(Date.now() - 121_000) } });
    await expect(sut.send(request, 'welcome:u1', 'c1')).resolves.toBe('sent');
    expect(log.takeOver).toHaveBeenCalledWith('welcome:u1', 'old', expect.any(String));
    expect(transport.sendMail).toHaveBeenCalledTimes(1);
  });

  it('gives the claim back and asks for a retry when SMTP is down', async () => {
    transport.sendMail.mockRejectedValue(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNECTION' }));
    const error = (await sut.send(request, 'welcome:u1', 'c1').catch((e: unknown) => e)) as DomainError;
    expect(error.code).toBe(MailErrorCodes.SmtpUnavailable);
    expect(error.retryable).toBe(true);
    expect(log.release).toHaveBeenCalledWith('welcome:u1', log.claim.mock.calls[0][1]);
    expect(log.markSent).not.toHaveBeenCalled();
  });

  it('dead-letters (non-retryable) a mail the SMTP server refuses for good', async () => {
    transport.sendMail.mockRejectedValue(Object.assign(new Error('550 no such user'), { code: 'EENVELOPE', responseCode: 550 }));
    const error = (await sut.send(request, 'welcome:u1', 'c1').catch((e: unknown) => e)) as DomainError;
    expect(error.code).toBe(MailErrorCodes.Rejected);
    expect(error.retryable).toBe(false);
  });

  it('rejects data that does not fit the kind before claiming anything', async () => {
    const bad: SendMail = { to: 'a@example.com', kind: 'purchase-completed', data: { purchaseId: 'p', sku: 'S', quantity: 0 } };
    const error = (await sut.send(bad, 'purchase-completed:p', 'c1').catch((e: unknown) => e)) as DomainError;
    expect(error.code).toBe(MailErrorCodes.InvalidData);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('amount');
    expect(log.claim).not.toHaveBeenCalled();
  });

  it('uses the top-level name when the data has none', async () => {
    await sut.send({ to: 'a@example.com', kind: 'welcome', data: {}, name: 'Cy' }, 'welcome:u2', 'c1');
    expect(transport.sendMail.mock.calls[0][0].text).toContain('Hello Cy,');
  });
});
