import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { rateLimitOptions } from '@app/http';
import { KafkaPublisher, KAFKA_PUBLISHER_OPTIONS } from '@app/messaging';
import { IngestEnv } from '../config/ingest.env';
import { IngestStockEventsService } from './ingest-stock-events.service';
import { StockEventsController } from './stock-events.controller';
import { StockTopicSetup } from './stock-topic.setup';
import { StoreApiKeyGuard } from './store-api-key.guard';

@Module({
  imports: [
    // RATE_LIMIT_RPS requests per second per store key (the key guard runs first, so it is a known key).
    ThrottlerModule.forRootAsync({
      inject: [IngestEnv],
      useFactory: (env: IngestEnv) => rateLimitOptions(env.RATE_LIMIT_RPS, (request) => `key:${String(request.headers['x-api-key'])}`),
    }),
  ],
  controllers: [StockEventsController],
  providers: [
    { provide: KAFKA_PUBLISHER_OPTIONS, useFactory: (env: IngestEnv) => ({ timeoutMs: env.KAFKA_PUBLISH_TIMEOUT_MS }), inject: [IngestEnv] },
    KafkaPublisher,
    IngestStockEventsService,
    StoreApiKeyGuard,
    StockTopicSetup,
  ],
})
export class StockEventsModule {}
