import { Module } from '@nestjs/common';
import { PriceChangedController } from './price-changed.controller';
import { WatchlistController } from './watchlist.controller';
import { WatchlistRepository } from './watchlist.repository';
import { WatchlistService } from './watchlist.service';

@Module({
  controllers: [WatchlistController, PriceChangedController],
  providers: [WatchlistRepository, WatchlistService],
})
export class WatchlistModule {}
