import { Global, Module } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ApplyStockEventsService } from './apply-stock-events.service';
import { StockConsumerHealthIndicator, StockEventsConsumer } from './stock-events.consumer';
import { StockEventsRepository } from './stock-events.repository';

// Global so the app's HealthModule can resolve the consumer's readiness indicator.
@Global()
@Module({
  providers: [StockEventsRepository, ApplyStockEventsService, StockEventsConsumer, HealthIndicatorService, StockConsumerHealthIndicator],
  exports: [StockConsumerHealthIndicator],
})
export class StockModule {}
