import { Inject, Injectable } from '@nestjs/common';
import { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import { randomUUID } from 'node:crypto';
import { MessageHeaders } from '@app/contracts';
import { acceptCorrelationId, correlationId as currentCorrelationId } from '@app/observability';
import { RABBITMQ_CONNECTION } from './rabbitmq.tokens';

export interface PublishMeta {
  messageId?: string;
  correlationId?: string;
  headers?: Record<string, unknown>;
  replyTo?: string;
  /** Per-message TTL in milliseconds. */
  expiration?: number;
}

/** Durable topic exchanges are declared by whoever needs them first; declaring twice is harmless. */
export async function assertTopicExchange(channel: { assertExchange: (...args: never[]) => unknown }, name: string) {
  await (channel.assertExchange as (n: string, t: string, o: object) => Promise<unknown>)(name, 'topic', { durable: true });
}

/**
 * Publishes persistent JSON messages on a confirm channel: the promise resolves only once the
 * broker has taken responsibility for the message, and rejects (after `publishTimeout`) when it cannot.
 */
@Injectable()
export class RabbitPublisher {
  private readonly channel: ChannelWrapper;
  private readonly exchanges = new Set<string>();

  constructor(@Inject(RABBITMQ_CONNECTION) connection: AmqpConnectionManager) {
    this.channel = connection.createChannel({ name: 'publisher', publishTimeout: 10_000, confirm: true });
  }

  async publish(exchange: string, routingKey: string, message: object, meta: PublishMeta = {}): Promise<void> {
    if (exchange !== '' && !this.exchanges.has(exchange)) {
      await this.channel.addSetup((channel: Parameters<typeof assertTopicExchange>[0]) => assertTopicExchange(channel, exchange));
      this.exchanges.add(exchange);
    }
    await this.channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(message)), this.options(meta));
  }

  async sendToQueue(queue: string, message: object, meta: PublishMeta = {}): Promise<void> {
    await this.channel.sendToQueue(queue, Buffer.from(JSON.stringify(message)), this.options(meta));
  }

  private options(meta: PublishMeta) {
    const messageId = meta.messageId ?? randomUUID();
    // AMQP short strings hold 255 bytes; a longer one would fail inside the channel, unsettled.
    if (Buffer.byteLength(messageId) > 255) throw new Error(`message id longer than 255 bytes: ${messageId.slice(0, 64)}…`);
    const correlationId = meta.correlationId === undefined ? currentCorrelationId() : acceptCorrelationId(meta.correlationId);
    return {
      persistent: true,
      contentType: 'application/json',
      messageId,
      correlationId,
      replyTo: meta.replyTo,
      expiration: meta.expiration,
      headers: { [MessageHeaders.SchemaVersion]: 1, ...meta.headers },
    };
  }

  /** Called by the module once consumers have drained, before the connection closes. */
  async close(): Promise<void> {
    await this.channel.close();
  }
}
