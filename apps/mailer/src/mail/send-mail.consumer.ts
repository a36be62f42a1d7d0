import { Injectable, OnModuleInit } from '@nestjs/common';
import { Queues, SendMail } from '@app/contracts';
import { RabbitConsumers } from '@app/messaging';
import { MailerEnv } from '../config/mailer.env';
import { MailSenderService } from './mail-sender.service';

/**
 * Drains `mail.send`. The message is acked only once the SMTP server accepted the mail (or it
 * was already sent); an SMTP outage is retried on the long MAIL_RETRY_DELAYS_MS schedule; a
 * request that fails its contract, has an unknown kind, data that does not fit its kind, or
 * that the SMTP server refuses for good is dead-lettered at once to `mail.send.dlq` with the reason.
 */
@Injectable()
export class SendMailConsumer implements OnModuleInit {
  constructor(
    private readonly consumers: RabbitConsumers,
    private readonly sender: MailSenderService,
    private readonly env: MailerEnv,
  ) {}

  onModuleInit(): void {
    this.consumers.register({
      queue: Queues.MailSend,
      contract: SendMail,
      retryDelaysMs: this.env.mailRetryDelaysMs,
      handle: (message, meta) => this.sender.send(message, meta.messageId, meta.correlationId),
    });
  }
}
