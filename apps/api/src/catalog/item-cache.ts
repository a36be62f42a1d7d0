import { ShopItem } from '@app/contracts';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

const MAX_ENTRIES = 10_000;

/**
 * The api's read cache of items and list pages, per instance. An entry lives for the TTL at
 * most and goes as soon as shop says the item changed. A read that started before an eviction
 * does not put its (possibly older) answer back: each sku counts its evictions, and the list
 * pages share one counter, since any change can alter any page.
 */
export class ItemCache {
  private readonly items = new Map<string, Entry<ShopItem>>();
  private readonly pages = new Map<string, Entry<unknown>>();
  private readonly evictions = new Map<string, number>();
  private epoch = 0;

  constructor(private readonly ttlMs: number) {}

  /** A ticket taken before reading from shop; `setItem` ignores the answer if the sku was evicted meanwhile. */
  ticket(sku: string): string {
    return `${this.epoch}:${this.evictions.get(sku) ?? 0}`;
  }

  getItem(sku: string): ShopItem | undefined {
    return this.fresh(this.items, sku);
  }

  setItem(item: ShopItem, ticket: string): void {
    if (this.ttlMs === 0 || ticket !== this.ticket(item.sku)) return;
    this.put(this.items, item.sku, item);
  }

  pageTicket(): string {
    return `${this.epoch}`;
  }

  getPage<T>(key: string): T | undefined {
    return this.fresh(this.pages, key) as T | undefined;
  }

  setPage(key: string, page: unknown, ticket: string): void {
    if (this.ttlMs === 0 || ticket !== this.pageTicket()) return;
    this.put(this.pages, key, page);
  }

  /** The item changed: its entry and every list page go. */
  evict(sku: string): void {
    this.items.delete(sku);
    this.evictions.set(sku, (this.evictions.get(sku) ?? 0) + 1);
    this.pages.clear();
    this.epoch++;
  }

  /** Notices may have been missed (broker reconnect): start over. */
  clear(): void {
    this.items.clear();
    this.pages.clear();
    this.evictions.clear();
    this.epoch++;
  }

  /** For a price event: true when the cached copy (if any) is older than `version`. */
  isOlderThan(sku: string, version: number): boolean {
    const cached = this.items.get(sku)?.value;
    return cached !== undefined && cached.priceVersion < version;
  }

  private fresh<T>(map: Map<string, Entry<T>>, key: string): T | undefined {
    const entry = map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  private put<T>(map: Map<string, Entry<T>>, key: string, value: T): void {
    if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
    map.delete(key);
    map.set(key, { value, expiresAt: Date.now() + this.ttlMs });
    if (this.evictions.size > MAX_ENTRIES * 4) {
      this.evictions.clear();
      this.epoch++;
    }
  }
}
