import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { ConsumerGroups, PRICE_CHANGED_TOPICS, PriceChanged, Topics } from '@app/contracts';
import { KAFKA, KafkaBatchConsumer, KafkaTopics } from '@app/messaging';
import { runWithCorrelation } from '@app/observability';
import { WatchlistService } from './watchlist.service';

/**
 * `catalog.price-changed.v1` with the mailer's own group: every price change reaches the
 * watchers whatever the api's consumer does. Offsets are committed after the batch's mail
 * requests are confirmed by RabbitMQ; a failing batch is held and retried by the consumer.
 */
@Injectable()
export class PriceChangedConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly consumer: KafkaBatchConsumer<PriceChanged>;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    private readonly topics: KafkaTopics,
    private readonly watchlist: WatchlistService,
  ) {
    this.consumer = new KafkaBatchConsumer(kafka, {
      groupId: ConsumerGroups.MailerWatchers,
      topic: Topics.PriceChanged,
      deadLetterTopic: Topics.PriceChangedDeadLetter,
      contract: PriceChanged,
      fromBeginning: true,
      handleBatch: async (messages) => {
        // In offset order: one sku's versions arrive in order on its partition.
        for (const message of messages) {
          await runWithCorrelation({ correlationId: message.correlationId, messageId: message.messageId }, () =>
            this.watchlist.onPriceChanged(message.value, message.correlationId),
          );
        }
      },
    });
  }

  onApplicationBootstrap(): void {
    this.consumer.launch(this.topics, PRICE_CHANGED_TOPICS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }

  get stalledReason(): string | undefined {
    return this.consumer.stalledReason;
  }
}
