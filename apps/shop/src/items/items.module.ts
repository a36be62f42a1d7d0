import { Module } from '@nestjs/common';
import { KafkaClient, KafkaPublisher } from '@app/messaging';
import { PriceOutboxRelay } from '../price-outbox/price-outbox.relay';
import { ReservationsRepository } from '../reservations/reservations.repository';
import { ReservationsService } from '../reservations/reservations.service';
import { SagaController } from '../reservations/saga.controller';
import { CatalogNotifier } from './catalog.notifier';
import { ItemsRepository } from './items.repository';
import { ItemsController } from './items.controller';
import { ItemsService } from './items.service';

/** Items, their reservations for the purchase saga, and the price outbox: one table, one module. */
@Module({
  controllers: [ItemsController, SagaController],
  providers: [KafkaPublisher, KafkaClient, ItemsRepository, ItemsService, CatalogNotifier, PriceOutboxRelay, ReservationsRepository, ReservationsService],
  exports: [ItemsService, ReservationsService, PriceOutboxRelay],
})
export class ItemsModule {}
