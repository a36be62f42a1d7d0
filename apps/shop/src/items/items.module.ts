import { Module } from '@nestjs/common';
import { PriceOutboxModule } from '../price-outbox/price-outbox.module';
import { CatalogNotifier } from './catalog.notifier';
import { ItemsController } from './items.controller';
import { ItemsRepository } from './items.repository';
import { ItemsService } from './items.service';

/** The catalog's items: reads, creation, restocks and price changes (whose events go through the price outbox). */
@Module({
  imports: [PriceOutboxModule],
  controllers: [ItemsController],
  providers: [ItemsRepository, ItemsService, CatalogNotifier],
  exports: [ItemsService, ItemsRepository, CatalogNotifier],
})
export class ItemsModule {}
