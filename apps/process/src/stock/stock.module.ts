import { Module } from '@nestjs/common';
import { ApplyStockEventsService } from './apply-stock-events.service';
import { StockEventsController } from './stock-events.controller';
import { StockEventsRepository } from './stock-events.repository';

@Module({
  controllers: [StockEventsController],
  providers: [StockEventsRepository, ApplyStockEventsService],
})
export class StockModule {}
