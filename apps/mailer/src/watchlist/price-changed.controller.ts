import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ConsumerGroups, PriceChanged, TopicContracts } from '@app/contracts';
import { ConsumedMessage, KafkaBatch } from '@app/messaging';
import { runWithCorrelation } from '@app/observability';
import { WatchlistService } from './watchlist.service';

/**
 * `catalog.price-changed.v1` with the mailer's own group: every price change reaches the
 * watchers whatever the api's consumer does. The batch is committed after its mail requests are
 * confirmed by RabbitMQ; a failing batch is held and retried by the transport.
 */
@Controller()
export class PriceChangedController {
  constructor(private readonly watchlist: WatchlistService) {}

  @KafkaBatch(TopicContracts.PriceChanged, { group: ConsumerGroups.MailerWatchers })
  async onPriceChanged(@Payload() messages: ConsumedMessage<PriceChanged>[]): Promise<void> {
    // In offset order: one sku's versions arrive in order on its partition.
    for (const message of messages) {
      await runWithCorrelation({ correlationId: message.correlationId, messageId: message.messageId }, () =>
        this.watchlist.onPriceChanged(message.value, message.correlationId),
      );
    }
  }
}
