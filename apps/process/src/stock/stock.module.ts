import { Module } from '@nestjs/common';
import { ProcessEnv } from '../config/process.env';
import { ApplyStockEventsService } from './apply-stock-events.service';
import { PartitionStates } from './partition-states';
import { StockEventsController } from './stock-events.controller';
import { StockEventsRepository } from './stock-events.repository';

@Module({
  controllers: [StockEventsController],
  providers: [
    StockEventsRepository,
    { provide: PartitionStates, inject: [ProcessEnv], useFactory: (env: ProcessEnv) => new PartitionStates(env.STOCK_STATE_CACHE_EVENTS) },
    ApplyStockEventsService,
  ],
})
export class StockModule {}
