import { Module } from '@nestjs/common';
import { KafkaPublisher } from '@app/messaging';
import { PriceOutboxRelay } from '../price-outbox/price-outbox.relay';
import { ReservationsRepository } from '../reservations/reservations.repository';
import { ReservationsService } from '../reservations/reservations.service';
import { SagaConsumer } from '../reservations/saga.consumer';
import { CatalogNotifier } from './catalog.notifier';
import { ItemsRepository } from './items.repository';
import { ItemsRpcConsumer } from './items.rpc.consumer';
import { ItemsService } from './items.service';

/** Items, their reservations for the purchase saga, and the price outbox: one table, one module. */
@Module({
  providers: [
    KafkaPublisher,
    ItemsRepository,
    ItemsService,
    ItemsRpcConsumer,
    CatalogNotifier,
    PriceOutboxRelay,
    ReservationsRepository,
    ReservationsService,
    SagaConsumer,
  ],
  exports: [ItemsService, ReservationsService, PriceOutboxRelay],
})
export class ItemsModule {}
