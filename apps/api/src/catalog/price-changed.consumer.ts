import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { Counter } from 'prom-client';
import { ConsumerGroups, PRICE_CHANGED_TOPICS, PriceChanged, Topics } from '@app/contracts';
import { ConsumedMessage, KAFKA, KafkaBatchConsumer, KafkaTopics } from '@app/messaging';
import { metricsRegistry } from '@app/observability';
import { CatalogService } from './catalog.service';

const priceEvents = new Counter({
  name: 'api_price_changed_events_total',
  help: 'PriceChanged events consumed by the api, by outcome (applied, stale = an older or repeated version, ignored)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

/** `catalog.price-changed` in consumer group `api`: keeps the catalog view and the cache current. */
@Injectable()
export class PriceChangedConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PriceChangedConsumer.name);
  private readonly consumer: KafkaBatchConsumer<PriceChanged>;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    private readonly topics: KafkaTopics,
    private readonly catalog: CatalogService,
  ) {
    this.consumer = new KafkaBatchConsumer(kafka, {
      groupId: ConsumerGroups.ApiCatalog,
      topic: Topics.PriceChanged,
      deadLetterTopic: Topics.PriceChangedDeadLetter,
      contract: PriceChanged,
      fromBeginning: true,
      handleBatch: (messages) => this.handleBatch(messages),
    });
  }

  get stalledReason(): string | undefined {
    return this.consumer.stalledReason;
  }

  onApplicationBootstrap(): void {
    this.consumer.launch(this.topics, PRICE_CHANGED_TOPICS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }

  /** In order per sku (one partition per key); a failure throws, so the batch is retried and not committed. */
  private async handleBatch(messages: ConsumedMessage<PriceChanged>[]): Promise<void> {
    for (const message of messages) {
      if (message.key !== null && message.key !== message.value.sku) {
        priceEvents.inc({ outcome: 'ignored' });
        this.logger.warn({ msg: 'PriceChanged whose key is not its sku; ignored', key: message.key, sku: message.value.sku, messageId: message.messageId });
        continue;
      }
      const applied = await this.catalog.applyPriceChanged(message.value);
      priceEvents.inc({ outcome: applied ? 'applied' : 'stale' });
      this.logger.log({
        msg: applied ? 'price change applied' : 'stale price change ignored',
        sku: message.value.sku,
        version: message.value.version,
        messageId: message.messageId,
        correlationId: message.correlationId,
      });
    }
  }
}
