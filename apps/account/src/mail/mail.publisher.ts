import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel } from 'amqplib';
import { assertValidMessage, MAIL_DATA_CONTRACTS, MailKind, Queues, SendMail } from '@app/contracts';
import { RABBITMQ_CONNECTION, RabbitPublisher } from '@app/messaging';

/**
 * Asks the mailer to send one mail. The message id says what the mail is about
 * (`welcome:<userId>`, `purchase-completed:<purchaseId>`), so sending it again after a crash or a
 * redelivery never mails anyone twice.
 */
@Injectable()
export class MailPublisher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(MailPublisher.name);
  private topology?: ChannelWrapper;

  constructor(
    private readonly publisher: RabbitPublisher,
    @Inject(RABBITMQ_CONNECTION) private readonly connection: AmqpConnectionManager,
  ) {}

  onModuleInit(): void {
    // Declared here too (as the mailer declares it), so requests sent before the mailer first
    // started wait in the queue instead of being dropped as unroutable.
    this.topology = this.connection.createChannel({
      name: 'mail-topology',
      setup: async (ch: Channel) => {
        await ch.assertQueue(Queues.MailSend, { durable: true }).catch((error: Error) =>
          this.logger.warn({ msg: `cannot declare ${Queues.MailSend}`, err: error.message }),
        );
      },
    });
  }

  async send(messageId: string, to: string, kind: MailKind, data: Record<string, unknown>): Promise<void> {
    const message: SendMail = { to, kind, data };
    assertValidMessage(SendMail, message);
    assertValidMessage(MAIL_DATA_CONTRACTS[kind] as new () => object, data);
    await this.publisher.sendToQueue(Queues.MailSend, message, { messageId });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.topology?.close();
  }
}
