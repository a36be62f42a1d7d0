import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
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
  private readonly logger = new Logger(PriceChangedConsumer.name);
  private readonly consumer: KafkaBatchConsumer<PriceChanged>;
  private starting?: Promise<void>;
  private stopping = false;

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

  /** Not awaited: the app is up (and says what it lacks in readiness) even while Kafka is not. */
  onApplicationBootstrap(): void {
    this.starting = (async () => {
      if (await this.topics.ensureEventually(PRICE_CHANGED_TOPICS, () => this.stopping)) await this.consumer.start();
    })().catch((error: Error) => this.logger.error({ msg: 'price-change consumer did not start', err: error.message }));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.consumer.stop();
    await this.starting;
  }

  get stalledReason(): string | undefined {
    return this.consumer.stalledReason;
  }
}
