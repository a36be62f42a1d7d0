import { Module } from '@nestjs/common';
import { KafkaPublisher, KAFKA_PUBLISHER_OPTIONS } from '@app/messaging';
import { IngestEnv } from '../config/ingest.env';
import { IngestStockEventsService } from './ingest-stock-events.service';
import { StockEventsController } from './stock-events.controller';
import { StockTopicSetup } from './stock-topic.setup';
import { RateLimitGuard, StoreApiKeyGuard } from './store-api-key.guard';

@Module({
  controllers: [StockEventsController],
  providers: [
    { provide: KAFKA_PUBLISHER_OPTIONS, useFactory: (env: IngestEnv) => ({ timeoutMs: env.KAFKA_PUBLISH_TIMEOUT_MS }), inject: [IngestEnv] },
    KafkaPublisher,
    IngestStockEventsService,
    StoreApiKeyGuard,
    RateLimitGuard,
    StockTopicSetup,
  ],
})
export class StockEventsModule {}
