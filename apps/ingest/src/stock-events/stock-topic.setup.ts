import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { KafkaTopics } from '@app/messaging';
import { IngestEnv } from '../config/ingest.env';

/** Creates the stock topics if needed, in the background (Kafka may come up after ingest). */
@Injectable()
export class StockTopicSetup implements OnApplicationBootstrap {
  private readonly logger = new Logger(StockTopicSetup.name);
  constructor(
    private readonly topics: KafkaTopics,
    private readonly env: IngestEnv,
  ) {}

  onApplicationBootstrap(): void {
    void (async () => {
      for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
        try {
          await this.topics.ensure([
            { topic: this.env.STOCK_TOPIC, numPartitions: this.env.STOCK_TOPIC_PARTITIONS },
            { topic: `${this.env.STOCK_TOPIC}.dlq`, numPartitions: 1 },
          ]);
          return;
        } catch (error) {
          this.logger.warn(`cannot create the stock topics yet (${(error as Error).message}); retrying in ${delay} ms`);
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    })();
  }
}
