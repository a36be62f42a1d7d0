import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Kafka } from 'kafkajs';
import { decodeStockEvent, StockEventMessage } from '@app/contracts';
import { KAFKA, KafkaBatchConsumer, KafkaTopics } from '@app/messaging';
import { probe, ReadinessIndicator } from '@app/observability';
import { ProcessEnv } from '../config/process.env';
import { ApplyStockEventsService } from './apply-stock-events.service';

/** Thin adapter: batches from `stock.events.v1` (group `process`) to the service. */
@Injectable()
export class StockEventsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(StockEventsConsumer.name);
  readonly consumer: KafkaBatchConsumer<StockEventMessage>;
  private starting?: Promise<void>;
  private stopping = false;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    private readonly topics: KafkaTopics,
    private readonly env: ProcessEnv,
    service: ApplyStockEventsService,
  ) {
    this.consumer = new KafkaBatchConsumer(kafka, {
      groupId: env.STOCK_CONSUMER_GROUP,
      topic: env.STOCK_TOPIC,
      deadLetterTopic: `${env.STOCK_TOPIC}.dlq`,
      contract: StockEventMessage,
      decode: decodeStockEvent,
      handleBatch: (messages) => service.applyBatch(messages),
      fromBeginning: true,
      partitionsConsumedConcurrently: env.STOCK_CONSUMER_CONCURRENCY,
    });
  }

  onApplicationBootstrap(): void {
    // In the background: the app serves health (not ready) while Kafka is still coming up.
    this.starting = (async () => {
      const topics = [
        { topic: this.env.STOCK_TOPIC, numPartitions: this.env.STOCK_TOPIC_PARTITIONS },
        { topic: `${this.env.STOCK_TOPIC}.dlq`, numPartitions: 1 },
      ];
      if (!(await this.topics.ensureEventually(topics, () => this.stopping))) return;
      await this.consumer.start();
    })().catch((error: Error) => this.logger.error(`stock consumer failed to start: ${error.message}`));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.consumer.stop();
    await this.starting;
  }
}

/** Not ready while the consumer is stalled (e.g. Cassandra writes failing) or not in its group yet. */
@Injectable()
export class StockConsumerHealthIndicator implements ReadinessIndicator {
  readonly key = 'stock-consumer';
  constructor(
    private readonly consumer: StockEventsConsumer,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check() {
    return probe(this.indicators, this.key, 1000, async () => {
      const reason = this.consumer.consumer.stalledReason;
      if (reason) throw new Error(reason);
      return {};
    });
  }
}
