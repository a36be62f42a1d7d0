import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
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
  readonly consumer: KafkaBatchConsumer<StockEventMessage>;

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
    this.consumer.launch(this.topics, [
      { topic: this.env.STOCK_TOPIC, numPartitions: this.env.STOCK_TOPIC_PARTITIONS },
      { topic: `${this.env.STOCK_TOPIC}.dlq`, numPartitions: 1 },
    ]);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
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
