import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import { decodeMessage, Exchanges, ItemChanged, ItemChangedRoutingKey } from '@app/contracts';
import { RABBITMQ_CONNECTION } from '@app/messaging';
import { CatalogService } from './catalog.service';

/**
 * shop's change notices, on a queue of this instance's own (server-named, exclusive): every
 * api instance must hear every notice, so competing consumers would be wrong here. Nothing is
 * durable on purpose; after any reconnect the cache is emptied, since notices may have been missed.
 */
@Injectable()
export class ItemChangedListener implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ItemChangedListener.name);
  private channel?: ChannelWrapper;

  constructor(
    @Inject(RABBITMQ_CONNECTION) private readonly connection: AmqpConnectionManager,
    private readonly catalog: CatalogService,
  ) {}

  onModuleInit(): void {
    this.channel = this.connection.createChannel({
      name: 'catalog-invalidations',
      confirm: false,
      setup: async (channel: Channel) => {
        await channel.assertExchange(Exchanges.Commerce, 'topic', { durable: true });
        const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
        await channel.bindQueue(queue, Exchanges.Commerce, ItemChangedRoutingKey);
        await channel.consume(queue, (message) => message && this.onMessage(message), { noAck: true });
        this.catalog.cache.clear();
      },
    });
  }

  private onMessage(message: ConsumeMessage): void {
    const decoded = decodeMessage(ItemChanged, message.content);
    if (!decoded.ok) {
      // Nothing to retry for a notice: drop it, and drop the cache too rather than trust it.
      this.logger.warn({ msg: 'unreadable item-changed notice; cache emptied', reason: decoded.reason, messageId: message.properties.messageId });
      this.catalog.cache.clear();
      return;
    }
    this.catalog.cache.evict(decoded.value.sku);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.channel?.close().catch(() => undefined);
  }
}
