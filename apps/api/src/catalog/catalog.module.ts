import { Module } from '@nestjs/common';
import { CatalogViewRepository } from './catalog-view.repository';
import { AdminItemsController, CatalogController } from './catalog.controller';
import { CatalogService } from './catalog.service';
import { CatalogInvalidationsController } from './catalog-invalidations.controller';
import { PriceChangedController } from './price-changed.controller';

/** Catalog endpoints (shop owns the items), the api's catalog view, and what keeps them current. */
@Module({
  controllers: [CatalogController, AdminItemsController, CatalogInvalidationsController, PriceChangedController],
  providers: [CatalogService, CatalogViewRepository],
  exports: [CatalogService],
})
export class CatalogModule {}
