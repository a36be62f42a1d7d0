import { Controller, Logger } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Counter } from 'prom-client';
import { ConsumerGroups, PriceChanged, TopicContracts } from '@app/contracts';
import { ConsumedMessage, KafkaBatch } from '@app/messaging';
import { metricsRegistry } from '@app/observability';
import { CatalogService } from './catalog.service';

const priceEvents = new Counter({
  name: 'api_price_changed_events_total',
  help: 'PriceChanged events consumed by the api, by outcome (applied, stale = an older or repeated version, ignored)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

/** `catalog.price-changed` in consumer group `api`: keeps the catalog view and the cache current. */
@Controller()
export class PriceChangedController {
  private readonly logger = new Logger(PriceChangedController.name);

  constructor(private readonly catalog: CatalogService) {}

  /** In order per sku (one partition per key); a failure throws, so the batch is retried and not committed. */
  @KafkaBatch(TopicContracts.PriceChanged, { group: ConsumerGroups.ApiCatalog })
  async applyBatch(@Payload() messages: ConsumedMessage<PriceChanged>[]): Promise<void> {
    for (const message of messages) {
      if (message.key !== null && message.key !== message.value.sku) {
        priceEvents.inc({ outcome: 'ignored' });
        this.logger.warn({ msg: 'PriceChanged whose key is not its sku; ignored', key: message.key, sku: message.value.sku, messageId: message.messageId });
        continue;
      }
      const applied = await this.catalog.applyPriceChanged(message.value);
      priceEvents.inc({ outcome: applied ? 'applied' : 'stale' });
      this.logger.log({
        msg: applied ? 'price change applied' : 'stale price change ignored',
        sku: message.value.sku,
        version: message.value.version,
        messageId: message.messageId,
        correlationId: message.correlationId,
      });
    }
  }
}
