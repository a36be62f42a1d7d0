import { Injectable, Logger } from '@nestjs/common';
import { MessageContracts, PriceChanged, priceDropMailId, SendMail, UnwatchSkuRequest, WatchlistChanged, WatchSkuRequest } from '@app/contracts';
import { RabbitClient, RabbitRecord } from '@app/messaging';
import { priceDropMails, priceEventsIgnored } from '../mail/mail.metrics';
import { WatchlistRepository } from './watchlist.repository';

/** Mail requests queued at the same time while fanning one price drop out. */
const FAN_OUT_CONCURRENCY = 64;

@Injectable()
export class WatchlistService {
  private readonly logger = new Logger(WatchlistService.name);

  constructor(
    private readonly repository: WatchlistRepository,
    private readonly rabbit: RabbitClient,
  ) {}

  async watch(request: WatchSkuRequest): Promise<WatchlistChanged> {
    await this.repository.watch(request.sku, { userId: request.userId, email: request.email, name: request.name });
    return { sku: request.sku, watching: true };
  }

  async unwatch(request: UnwatchSkuRequest): Promise<WatchlistChanged> {
    await this.repository.unwatch(request.sku, request.userId);
    return { sku: request.sku, watching: false };
  }

  /**
   * On a price drop, queues one `price-drop` mail per watcher with the id
   * `price-drop:<sku>:<version>:<userId>`, then records the version as handled. An event whose
   * version is not newer than the handled one is stale and sends nothing. A crash between the
   * two steps queues the same ids again, and the mail sender drops them as already sent.
   */
  async onPriceChanged(event: PriceChanged, correlationId: string): Promise<void> {
    const handled = await this.repository.handledVersion(event.sku);
    if (event.version <= handled) {
      priceEventsIgnored.inc();
      this.logger.log({ msg: 'stale price change ignored', sku: event.sku, version: event.version, handled });
      return;
    }
    if (event.newPrice < event.oldPrice) {
      let queued = 0;
      for await (const page of this.repository.watchers(event.sku)) {
        for (let i = 0; i < page.length; i += FAN_OUT_CONCURRENCY) {
          await Promise.all(
            page.slice(i, i + FAN_OUT_CONCURRENCY).map((watcher) => {
              const mail: SendMail = {
                to: watcher.email,
                kind: 'price-drop',
                data: { name: watcher.name, sku: event.sku, itemName: event.name, oldPrice: event.oldPrice, newPrice: event.newPrice },
              };
              const messageId = priceDropMailId(event.sku, event.version, watcher.userId);
              return this.rabbit.dispatch(MessageContracts.SendMail, new RabbitRecord(mail, { messageId, correlationId }));
            }),
          );
        }
        queued += page.length;
      }
      priceDropMails.inc(queued);
      this.logger.log({ msg: 'price drop fanned out to watchers', sku: event.sku, version: event.version, watchers: queued });
    }
    await this.repository.recordHandled(event.sku, event.version, event.oldPrice, event.newPrice);
  }
}
