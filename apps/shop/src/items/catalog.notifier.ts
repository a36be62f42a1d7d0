import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ItemChanged, MessageContracts } from '@app/contracts';
import { RabbitClient, RabbitRecord } from '@app/messaging';

/** Tells the api instances that cached copies of an item are stale. Best effort by design (see ItemChanged). */
@Injectable()
export class CatalogNotifier {
  private readonly logger = new Logger(CatalogNotifier.name);

  constructor(private readonly rabbit: RabbitClient) {}

  async itemChanged(sku: string): Promise<void> {
    const message: ItemChanged = { sku, changedAt: new Date().toISOString() };
    try {
      await this.rabbit.dispatch(MessageContracts.ItemChanged, new RabbitRecord(message, { messageId: `item-changed:${sku}:${randomUUID()}` }));
    } catch (error) {
      this.logger.warn({ msg: 'could not announce an item change; api caches catch up by their TTL', sku, err: (error as Error).message });
    }
  }
}
