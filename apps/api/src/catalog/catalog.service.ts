import { Injectable, Logger } from '@nestjs/common';
import { Counter } from 'prom-client';
import { DomainError, ItemPage, PriceChangeAccepted, PriceChanged, ShopErrorCodes, ShopItem, ShopRpc, SKU_PATTERN } from '@app/contracts';
import { RabbitClient } from '@app/messaging';
import { metricsRegistry } from '@app/observability';
import { ApiEnv } from '../config/api.env';
import { CatalogViewRepository } from './catalog-view.repository';
import { ChangePriceRequestDto, CreateItemRequestDto, ListItemsQueryDto, RestockItemRequestDto } from './dto/catalog.request.dto';
import { ItemCache } from './item-cache';

const DEFAULT_LIMIT = 100;
/** The durable view is refreshed from shop's answers at most this often per sku and instance. */
const VIEW_REFRESH_MS = 5_000;

const cacheLookups = new Counter({
  name: 'api_catalog_cache_lookups_total',
  help: 'Catalog reads by where they were answered from (cache, shop, view = the fallback while shop is unavailable)',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

function checkSku(sku: string): void {
  if (sku.length < 1 || sku.length > 64 || !SKU_PATTERN.test(sku)) {
    throw new DomainError(ShopErrorCodes.InvalidSku, 'invalid', 'sku must be 1 to 64 characters of A-Z a-z 0-9 . _ -');
  }
}

/**
 * The api's catalog: reads served from a per-instance cache in front of shop's RPC (evicted by
 * shop's change notices and by price events, bounded by a TTL), with the durable view in
 * Cassandra as the answer of last resort while shop cannot be reached. Writes go to shop.
 */
@Injectable()
export class CatalogService {
  private readonly logger = new Logger(CatalogService.name);
  readonly cache: ItemCache;
  private readonly inflight = new Map<string, Promise<ShopItem>>();
  private readonly viewRefreshedAt = new Map<string, number>();

  constructor(
    private readonly rabbit: RabbitClient,
    private readonly view: CatalogViewRepository,
    private readonly env: ApiEnv,
  ) {
    this.cache = new ItemCache(env.CATALOG_CACHE_TTL_MS);
  }

  async get(sku: string): Promise<ShopItem> {
    checkSku(sku);
    const cached = this.cache.getItem(sku);
    if (cached) {
      cacheLookups.inc({ source: 'cache' });
      return cached;
    }
    // One request to shop per sku at a time, however many readers are waiting.
    let pending = this.inflight.get(sku);
    if (!pending) {
      pending = this.fetch(sku).finally(() => this.inflight.delete(sku));
      this.inflight.set(sku, pending);
    }
    return pending;
  }

  private async fetch(sku: string): Promise<ShopItem> {
    const ticket = this.cache.ticket(sku);
    try {
      const item = await this.rabbit.request(ShopRpc.GetItem, { sku });
      cacheLookups.inc({ source: 'shop' });
      this.cache.setItem(item, ticket);
      this.refreshView(item);
      return item;
    } catch (error) {
      if (!(error instanceof DomainError) || !error.retryable) throw error;
      const viewed = await this.view.find(sku).catch(() => null);
      if (!viewed) throw error;
      cacheLookups.inc({ source: 'view' });
      this.logger.warn({ msg: 'shop unavailable; answering from the catalog view', sku, err: error.message });
      return viewed;
    }
  }

  async list(query: ListItemsQueryDto): Promise<ItemPage> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const key = `${limit}|${query.pageToken ?? ''}`;
    const cached = this.cache.getPage<ItemPage>(key);
    if (cached) {
      cacheLookups.inc({ source: 'cache' });
      return cached;
    }
    const ticket = this.cache.pageTicket();
    const page = await this.rabbit.request(ShopRpc.ListItems, { limit, ...(query.pageToken ? { pageToken: query.pageToken } : {}) });
    cacheLookups.inc({ source: 'shop' });
    this.cache.setPage(key, page, ticket);
    return page;
  }

  async create(body: CreateItemRequestDto): Promise<ShopItem> {
    const item = await this.rabbit.request(ShopRpc.CreateItem, body);
    this.cache.evict(item.sku);
    return item;
  }

  async restock(sku: string, body: RestockItemRequestDto): Promise<ShopItem> {
    checkSku(sku);
    const item = await this.rabbit.request(ShopRpc.RestockItem, { sku, quantity: body.quantity });
    this.cache.evict(sku);
    return item;
  }

  async changePrice(sku: string, body: ChangePriceRequestDto): Promise<PriceChangeAccepted> {
    checkSku(sku);
    const accepted = await this.rabbit.request(ShopRpc.ChangePrice, { sku, price: body.price });
    this.cache.evict(sku);
    return accepted;
  }

  /** A PriceChanged from Kafka: the view moves forward only, and an older cached copy goes. */
  async applyPriceChanged(event: PriceChanged): Promise<boolean> {
    const applied = await this.view.apply({ sku: event.sku, name: event.name, price: event.newPrice, version: event.version }, 'skip');
    if (this.cache.isOlderThan(event.sku, event.version)) this.cache.evict(event.sku);
    return applied;
  }

  private refreshView(item: ShopItem): void {
    const last = this.viewRefreshedAt.get(item.sku) ?? 0;
    if (Date.now() - last < VIEW_REFRESH_MS) return;
    this.viewRefreshedAt.set(item.sku, Date.now());
    if (this.viewRefreshedAt.size > 100_000) this.viewRefreshedAt.clear();
    void this.view
      .apply({ sku: item.sku, name: item.name, price: item.price, quantity: item.quantity, version: item.priceVersion }, 'apply')
      .catch((error: Error) => this.logger.warn({ msg: 'could not refresh the catalog view', sku: item.sku, err: error.message }));
  }
}
