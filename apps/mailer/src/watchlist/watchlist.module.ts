import { Module } from '@nestjs/common';
import { PriceChangedConsumer } from './price-changed.consumer';
import { WatchlistRpcConsumer } from './watchlist-rpc.consumer';
import { WatchlistRepository } from './watchlist.repository';
import { WatchlistService } from './watchlist.service';

@Module({
  providers: [WatchlistRepository, WatchlistService, WatchlistRpcConsumer, PriceChangedConsumer],
})
export class WatchlistModule {}
