import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ConsumerGroups, StockEventMessage, TopicContracts } from '@app/contracts';
import { ConsumedMessage, KafkaBatch } from '@app/messaging';
import { ApplyStockEventsService } from './apply-stock-events.service';

/** Thin adapter: batches of `stock.events.v1` (group `process`) to the service; resolving commits them. */
@Controller()
export class StockEventsController {
  constructor(private readonly service: ApplyStockEventsService) {}

  @KafkaBatch(TopicContracts.StockEvents, { group: ConsumerGroups.Process })
  applyBatch(@Payload() batch: ConsumedMessage<StockEventMessage>[]): Promise<void> {
    return this.service.applyBatch(batch);
  }
}
