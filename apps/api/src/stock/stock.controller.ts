import { Controller, Get, Param, Query } from '@nestjs/common';
import { NamePath } from '@app/http';
import { ListStockQueryDto } from './dto/list-stock.query.dto';
import { StockLevelsService } from './stock-levels.service';

/** Public stock reads (API.md "Stock"). */
@Controller('v1')
export class StockController {
  constructor(private readonly service: StockLevelsService) {}

  @Get('stores/:storeId/stock')
  list(@Param('storeId', NamePath('store')) storeId: string, @Query() query: ListStockQueryDto) {
    return this.service.list(storeId, query.limit, query.pageToken, query.below);
  }

  @Get('stores/:storeId/stock/:sku')
  one(@Param('storeId', NamePath('store')) storeId: string, @Param('sku', NamePath('stock level')) sku: string) {
    return this.service.one(storeId, sku);
  }

  @Get('stock/:sku')
  totals(@Param('sku', NamePath('stock level')) sku: string) {
    return this.service.totals(sku);
  }
}
