import { Injectable } from '@nestjs/common';
import {
  ChangePriceRequest,
  CreateItemRequest,
  ItemPage,
  ListItemsRequest,
  MAX_ITEM_QUANTITY,
  PriceChangeAccepted,
  PriceChanged,
  RestockItemRequest,
  ShopItem,
} from '@app/contracts';
import { ShopEnv } from '../config/shop.env';
import { PriceOutboxRelay } from '../price-outbox/price-outbox.relay';
import { CatalogNotifier } from './catalog.notifier';
import { Item, ItemErrors } from './item';
import { ItemsRepository } from './items.repository';
import { PageTokens } from './page-token';

const MAX_ATTEMPTS = 30;

export function toShopItem(item: Item): ShopItem {
  return { sku: item.sku, name: item.name, price: item.price, quantity: item.quantity, priceVersion: item.priceVersion };
}

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(5 * 2 ** Math.min(attempt, 6), 200) * Math.random()));
}

/** The catalog operations of admins and readers; every write is a lightweight transaction. */
@Injectable()
export class ItemsService {
  private readonly pageTokens: PageTokens;

  constructor(
    private readonly repository: ItemsRepository,
    private readonly notifier: CatalogNotifier,
    private readonly relay: PriceOutboxRelay,
    env: ShopEnv,
  ) {
    this.pageTokens = new PageTokens(env.SHOP_PAGE_TOKEN_SECRET);
  }

  async get(sku: string): Promise<ShopItem> {
    const item = await this.repository.find(sku);
    if (!item) throw ItemErrors.notFound(sku);
    return toShopItem(item);
  }

  async create(request: CreateItemRequest): Promise<ShopItem> {
    const now = new Date();
    const item: Item = { ...request, priceVersion: 0, createdAt: now, updatedAt: now };
    if (!(await this.repository.insert(item))) throw ItemErrors.exists(request.sku);
    void this.notifier.itemChanged(item.sku);
    return toShopItem(item);
  }

  async restock({ sku, quantity }: RestockItemRequest): Promise<ShopItem> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const item = await this.repository.find(sku, { serial: attempt > 0 });
      if (!item) throw ItemErrors.notFound(sku);
      if (item.quantity + quantity > MAX_ITEM_QUANTITY) throw ItemErrors.quantityTooLarge(sku, item.quantity, quantity, MAX_ITEM_QUANTITY);
      const now = new Date();
      if (await this.repository.compareAndSetQuantity(sku, item.quantity, item.quantity + quantity, now)) {
        void this.notifier.itemChanged(sku);
        return toShopItem({ ...item, quantity: item.quantity + quantity, updatedAt: now });
      }
      await backoff(attempt);
    }
    throw ItemErrors.contended(sku);
  }

  /**
   * Records the price with the next version and, in the same compare-and-set, the PriceChanged
   * event in the item's outbox; the relay puts it on Kafka (at once, and again after a crash).
   */
  async changePrice({ sku, price }: ChangePriceRequest): Promise<PriceChangeAccepted> {
    let item = await this.repository.find(sku);
    if (!item) throw ItemErrors.notFound(sku);
    await this.relay.mark(sku);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) {
        item = await this.repository.find(sku, { serial: true });
        if (!item) throw ItemErrors.notFound(sku);
      }
      const now = new Date();
      const event: PriceChanged = {
        sku,
        name: item.name,
        oldPrice: item.price,
        newPrice: price,
        version: item.priceVersion + 1,
        changedAt: now.toISOString(),
      };
      if (await this.repository.compareAndSetPrice(sku, item.priceVersion, price, event.version, event, now)) {
        this.relay.kick(sku);
        void this.notifier.itemChanged(sku);
        return { sku, oldPrice: event.oldPrice, newPrice: price, version: event.version, changedAt: event.changedAt };
      }
      await backoff(attempt);
    }
    throw ItemErrors.contended(sku);
  }

  async list({ limit, pageToken }: ListItemsRequest): Promise<ItemPage> {
    let after: string | undefined;
    if (pageToken !== undefined) {
      after = this.pageTokens.decode(pageToken);
      if (after === undefined) throw ItemErrors.invalidPageToken();
    }
    const items: Item[] = [];
    // Partitions without an item (saga rows of unknown skus) are skipped, so a page may take several reads.
    for (;;) {
      const page = await this.repository.pageAfter(after, limit + 1 - items.length);
      items.push(...page.items);
      if (items.length > limit || page.exhausted || page.lastSku === undefined) break;
      after = page.lastSku;
    }
    const shown = items.slice(0, limit);
    return {
      items: shown.map(toShopItem),
      nextPageToken: items.length > limit ? this.pageTokens.encode(shown[shown.length - 1].sku) : null,
    };
  }
}
