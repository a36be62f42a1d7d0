import { Module } from '@nestjs/common';
import { ItemsModule } from '../items/items.module';
import { ReservationsRepository } from './reservations.repository';
import { ReservationsService } from './reservations.service';
import { SagaController } from './saga.controller';

/** Shop's side of the purchase saga: reservations share the items' partitions, one compare-and-set per sku. */
@Module({
  imports: [ItemsModule],
  controllers: [SagaController],
  providers: [ReservationsRepository, ReservationsService],
  exports: [ReservationsService],
})
export class ReservationsModule {}
