import { Module } from '@nestjs/common';
import { KafkaClient, KafkaPublisher } from '@app/messaging';
import { PriceOutboxRelay } from './price-outbox.relay';
import { PriceOutboxRepository } from './price-outbox.repository';

/** The price outbox and its relay to Kafka (the events are written by the items' price change). */
@Module({
  providers: [KafkaPublisher, KafkaClient, PriceOutboxRepository, PriceOutboxRelay],
  exports: [PriceOutboxRelay, PriceOutboxRepository],
})
export class PriceOutboxModule {}
