import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { MessageContracts, SendMail } from '@app/contracts';
import { RabbitContext, RabbitEvent } from '@app/messaging';
import { MailSenderService } from './mail-sender.service';

/**
 * Drains `mail.send`. The message is acked only once the SMTP server accepted the mail (or it
 * was already sent); an SMTP outage is retried on the long MAIL_RETRY_DELAYS_MS ladder; a
 * request that fails its contract, has an unknown kind, data that does not fit its kind, or
 * that the SMTP server refuses for good is dead-lettered at once to `mail.send.dlq` with the reason.
 */
@Controller()
export class SendMailController {
  constructor(private readonly sender: MailSenderService) {}

  @RabbitEvent(MessageContracts.SendMail)
  async send(@Payload() message: SendMail, @Ctx() { meta }: RabbitContext): Promise<void> {
    await this.sender.send(message, meta.messageId, meta.correlationId);
  }
}
