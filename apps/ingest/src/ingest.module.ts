import { DynamicModule, Module } from '@nestjs/common';
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
      KafkaModule.forRoot({ clientId: 'ingest', brokers: env.kafkaBrokers }),
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
