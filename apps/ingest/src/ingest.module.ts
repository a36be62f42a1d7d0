import { DynamicModule, Module } from '@nestjs/common';
import { TopicContracts } from '@app/contracts';
import { KafkaHealthIndicator, KafkaModule } from '@app/messaging';
import { RedisHealthIndicator, RedisModule } from '@app/http';
import { HealthModule, MetricsModule } from '@app/observability';
import { IngestEnv } from './config/ingest.env';
import { StockEventsModule } from './stock-events/stock-events.module';

@Module({})
export class IngestModule {
  static forEnv(env: IngestEnv): DynamicModule {
    return {
      module: IngestModule,
      global: true,
      imports: [
        KafkaModule.forRoot({
          clientId: 'ingest',
          brokers: env.kafkaBrokers,
          // Tests and the benchmark isolate a run with a topic of their own.
          topics: { [TopicContracts.StockEvents.topic]: { topic: env.STOCK_TOPIC, partitions: env.STOCK_TOPIC_PARTITIONS } },
        }),
        RedisModule.forRoot(env.REDIS_URL),
        HealthModule.forIndicators([KafkaHealthIndicator, RedisHealthIndicator]),
        MetricsModule,
        StockEventsModule,
      ],
      providers: [{ provide: IngestEnv, useValue: env }],
      exports: [IngestEnv],
    };
  }
}
