import { Module } from '@nestjs/common';
import { CatalogViewRepository } from './catalog-view.repository';
import { AdminItemsController, CatalogController } from './catalog.controller';
import { CatalogService } from './catalog.service';
import { ItemChangedListener } from './item-changed.listener';
import { PriceChangedConsumer } from './price-changed.consumer';

/** Catalog endpoints (shop owns the items), the api's catalog view, and what keeps them current. */
@Module({
  controllers: [CatalogController, AdminItemsController],
  providers: [CatalogService, CatalogViewRepository, PriceChangedConsumer, ItemChangedListener],
  exports: [CatalogService, PriceChangedConsumer],
})
export class CatalogModule {}
