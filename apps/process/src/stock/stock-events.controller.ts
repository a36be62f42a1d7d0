import { Controller, OnModuleInit } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ConsumerGroups, StockEventMessage, TopicContracts } from '@app/contracts';
import { ConsumedMessage, KafkaBatch, KafkaServer } from '@app/messaging';
import { ApplyStockEventsService } from './apply-stock-events.service';

/**
 * Thin adapter: batches of `stock.events.v1` (group `process`) to the service; resolving commits them.
 * Partitions given up in a rebalance are forgotten by the service (another instance owns their keys now).
 */
@Controller()
export class StockEventsController implements OnModuleInit {
  constructor(
    private readonly service: ApplyStockEventsService,
    private readonly kafka: KafkaServer,
  ) {}

  onModuleInit(): void {
    this.kafka.on('partitions-revoked', (event) => this.service.revoked(event.partitions));
  }

  @KafkaBatch(TopicContracts.StockEvents, { group: ConsumerGroups.Process })
  applyBatch(@Payload() batch: ConsumedMessage<StockEventMessage>[]): Promise<void> {
    return this.service.applyBatch(batch);
  }
}
