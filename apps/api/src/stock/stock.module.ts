import { Module } from '@nestjs/common';
import { StockController } from './stock.controller';
import { StockLevelsRepository } from './stock-levels.repository';
import { StockLevelsService } from './stock-levels.service';

@Module({
  controllers: [StockController],
  providers: [StockLevelsRepository, StockLevelsService],
})
export class StockModule {}
