import { Injectable } from '@nestjs/common';
import { assertValidMessage, MAIL_DATA_CONTRACTS, MailKind, MessageContracts, SendMail } from '@app/contracts';
import { RabbitClient, RabbitRecord } from '@app/messaging';

/**
 * Asks the mailer to send one mail. The message id says what the mail is about
 * (`welcome:<userId>`, `purchase-completed:<purchaseId>`), so sending it again after a crash or a
 * redelivery never mails anyone twice.
 */
@Injectable()
export class MailPublisher {
  constructor(private readonly rabbit: RabbitClient) {}

  async send(messageId: string, to: string, kind: MailKind, data: Record<string, unknown>): Promise<void> {
    const message: SendMail = { to, kind, data };
    // The data of each kind has a contract of its own, which the mailer checks too.
    assertValidMessage(MAIL_DATA_CONTRACTS[kind] as new () => object, data);
    await this.rabbit.dispatch(MessageContracts.SendMail, new RabbitRecord(message, { messageId }));
  }
}
