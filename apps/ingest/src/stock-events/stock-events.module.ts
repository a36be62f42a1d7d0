import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { rateLimitOptions, SharedThrottlerStorage } from '@app/http';
import { KafkaClient, KafkaPublisher, KAFKA_PUBLISHER_OPTIONS } from '@app/messaging';
import { IngestEnv } from '../config/ingest.env';
import { IngestStockEventsService } from './ingest-stock-events.service';
import { StockEventsController } from './stock-events.controller';
import { StoreApiKeyCheck } from './store-api-key.hook';

@Module({
  imports: [
    // RATE_LIMIT_RPS requests per second per store key, across ingest instances (the key is known by then).
    ThrottlerModule.forRootAsync({
      inject: [IngestEnv, SharedThrottlerStorage],
      useFactory: (env: IngestEnv, storage: SharedThrottlerStorage) =>
        rateLimitOptions(
          [
            {
              name: 'default',
              limit: env.RATE_LIMIT_RPS,
              ttlMs: 1000,
              clientOf: (request) => `key:${String(request.headers['x-api-key'])}`,
              message: (retryAfter) => `Too many requests: the limit is ${env.RATE_LIMIT_RPS} per second per store key; retry after ${retryAfter} s.`,
            },
          ],
          storage,
        ),
    }),
  ],
  controllers: [StockEventsController],
  providers: [
    { provide: KAFKA_PUBLISHER_OPTIONS, useFactory: (env: IngestEnv) => ({ timeoutMs: env.KAFKA_PUBLISH_TIMEOUT_MS }), inject: [IngestEnv] },
    KafkaPublisher,
    KafkaClient,
    IngestStockEventsService,
    StoreApiKeyCheck,
  ],
})
export class StockEventsModule {}
