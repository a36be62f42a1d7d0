import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import { Backoff, checkContract, DomainError, MAIL_DATA_CONTRACTS, SendMail, sleepUnless } from '@app/contracts';
import { MailerEnv } from '../config/mailer.env';
import { SMTP_TRANSPORT } from '../smtp/smtp.module';
import { MailLogRepository } from './mail-log.repository';
import { mailRequests, smtpSendDuration } from './mail.metrics';
import { renderMail, RenderedMail } from './mail-templates';
import { isPermanentSmtpFailure } from './smtp-errors';

export const MailErrorCodes = {
  InvalidData: 'MAIL.INVALID_DATA',
  Rejected: 'MAIL.REJECTED_BY_SMTP',
  SmtpUnavailable: 'MAIL.SMTP_UNAVAILABLE',
  InProgress: 'MAIL.SEND_IN_PROGRESS',
} as const;

export type SendOutcome = 'sent' | 'duplicate';

/**
 * Sends one mail request at most once per message id, in three durable steps:
 * claim the id (LWT insert, state `sending`), hand the mail to SMTP, mark it `sent`.
 * - A delivery that finds `sent` does nothing; one that finds a fresh `sending` claim is
 *   retried later (another instance is sending it right now).
 * - A failed send gives the claim back, so the retry sends it.
 * - The only window left is a crash after the SMTP server accepted the mail and before the
 *   mark: the claim then outlives its lease and the next delivery sends the mail again, with
 *   the same RFC 5322 Message-ID, so nothing is lost and a receiving system can fold the copy.
 */
@Injectable()
export class MailSenderService {
  private readonly logger = new Logger(MailSenderService.name);
  private readonly leaseMs: number;

  constructor(
    @Inject(SMTP_TRANSPORT) private readonly transport: Transporter,
    private readonly log: MailLogRepository,
    private readonly env: MailerEnv,
  ) {
    this.leaseMs = env.MAIL_CLAIM_LEASE_SECONDS * 1000;
  }

  async send(request: SendMail, messageId: string, correlationId: string): Promise<SendOutcome> {
    const mail = this.render(request);
    const token = randomUUID();
    const claim = await this.log.claim(messageId, token, request.to, request.kind);
    if (!claim.claimed) {
      const { existing } = claim;
      if (existing.state === 'sent') {
        this.logger.log({ msg: 'mail already sent; nothing to do', messageId, kind: request.kind });
        mailRequests.inc({ kind: request.kind, outcome: 'duplicate' });
        return 'duplicate';
      }
      const age = Date.now() - existing.claimedAt.getTime();
      if (age < this.leaseMs || !(await this.log.takeOver(messageId, existing.claimToken, token))) {
        mailRequests.inc({ kind: request.kind, outcome: 'retried' });
        throw new DomainError(MailErrorCodes.InProgress, 'unavailable', `mail ${messageId} is being sent by another delivery`);
      }
      this.logger.warn({ msg: 'taking over a stale claim: the previous sender stopped before recording the outcome', messageId, claimAgeMs: age });
    }

    const stopTimer = smtpSendDuration.startTimer();
    try {
      await this.transport.sendMail({
        from: this.env.MAIL_FROM,
        to: request.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: rfc5322MessageId(messageId),
        headers: { 'X-Mail-Id': messageId, 'X-Mail-Kind': request.kind, 'X-Correlation-Id': correlationId },
      });
      stopTimer();
    } catch (error) {
      await this.log.release(messageId, token).catch((releaseError: Error) =>
        // The claim then simply expires after its lease; the retry takes it over.
        this.logger.warn({ msg: 'could not release the claim', messageId, err: releaseError.message }),
      );
      if (isPermanentSmtpFailure(error)) {
        mailRequests.inc({ kind: request.kind, outcome: 'rejected' });
        throw new DomainError(MailErrorCodes.Rejected, 'invalid', `the SMTP server refused the mail: ${(error as Error).message}`);
      }
      mailRequests.inc({ kind: request.kind, outcome: 'retried' });
      throw new DomainError(MailErrorCodes.SmtpUnavailable, 'unavailable', `SMTP unavailable: ${(error as Error).message}`);
    }

    await this.markSent(messageId, token, mail.subject);
    mailRequests.inc({ kind: request.kind, outcome: 'sent' });
    this.logger.log({ msg: 'mail sent', messageId, kind: request.kind });
    return 'sent';
  }

  /** Validates the data of its kind and renders it; a request that cannot be rendered is poison. */
  render(request: SendMail): RenderedMail {
    const Contract = MAIL_DATA_CONTRACTS[request.kind];
    // The top-level name is the recipient's too; the data's own wins.
    const checked = checkContract(Contract as new () => object, { ...request.data, name: request.data.name ?? request.name });
    if (!checked.ok) {
      mailRequests.inc({ kind: request.kind, outcome: 'rejected' });
      throw new DomainError(MailErrorCodes.InvalidData, 'invalid', `data of a ${request.kind} mail: ${checked.problems}`);
    }
    return renderMail(request.kind, request.to, checked.value as never, this.env.MAIL_CURRENCY);
  }

  /**
   * The mail is out: the mark must land, or a later delivery would send it again once the
   * lease runs out. So it is retried here (Cassandra blips) for up to half the lease.
   */
  private async markSent(messageId: string, token: string, subject: string): Promise<void> {
    const deadline = Date.now() + this.leaseMs / 2;
    for (const backoff = new Backoff(100, 5000); ;) {
      try {
        return await this.log.markSent(messageId, token, subject);
      } catch (error) {
        const delay = backoff.next();
        if (Date.now() + delay > deadline) throw error;
        this.logger.warn({ msg: 'could not record a sent mail yet; retrying', messageId, err: (error as Error).message });
        await sleepUnless(delay);
      }
    }
  }
}

/** The same request always gets the same Message-ID header (ids like `a:b` are not valid there, so hashed). */
export function rfc5322MessageId(messageId: string): string {
  return `<${createHash('sha256').update(messageId).digest('hex').slice(0, 40)}@mailer.retail.local>`;
}
