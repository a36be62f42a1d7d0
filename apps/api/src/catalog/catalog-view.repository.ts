import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';
import { ShopItem } from '@app/contracts';

const LWT = { prepare: true, serialConsistency: types.consistencies.localSerial };

export interface ViewedItem extends ShopItem {
  updatedAt: Date;
}

export interface ViewUpdate {
  sku: string;
  name: string;
  price: number;
  /** Unknown from a price event: the current quantity is kept. */
  quantity?: number;
  version: number;
}

/**
 * The api's durable catalog view (keyspace `api`): what it last learned of each item, from
 * shop's answers and from PriceChanged events. Writes are guarded by the price version, so a
 * replayed or reordered event never takes a price back.
 */
@Injectable()
export class CatalogViewRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  async find(sku: string): Promise<ViewedItem | null> {
    const row = (
      await this.client.execute(`SELECT sku, name, price, quantity, version, updated_at FROM catalog_items WHERE sku = ?`, [sku], { prepare: true })
    ).first();
    if (!row) return null;
    return {
      sku: row.get('sku') as string,
      name: row.get('name') as string,
      price: Number(row.get('price') as types.Long),
      quantity: (row.get('quantity') as number | null) ?? 0,
      priceVersion: Number(row.get('version') as types.Long),
      updatedAt: row.get('updated_at') as Date,
    };
  }

  /**
   * Applies `update` unless the view holds a newer version; with `sameVersion: 'apply'` an equal
   * version refreshes the other fields (a fresh read from shop), with 'skip' it is a replay.
   * Returns whether anything was written.
   */
  async apply(update: ViewUpdate, sameVersion: 'apply' | 'skip'): Promise<boolean> {
    const now = new Date();
    const price = types.Long.fromNumber(update.price);
    const version = types.Long.fromNumber(update.version);
    for (let attempt = 0; attempt < 10; attempt++) {
      const inserted = await this.client.execute(
        `INSERT INTO catalog_items (sku, name, price, quantity, version, updated_at) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
        [update.sku, update.name, price, update.quantity ?? null, version, now],
        LWT,
      );
      if (inserted.wasApplied()) return true;
      const current = Number((inserted.first().get('version') as types.Long | null) ?? -1);
      if (current > update.version || (current === update.version && sameVersion === 'skip')) return false;
      const query =
        update.quantity === undefined
          ? `UPDATE catalog_items SET name = ?, price = ?, version = ?, updated_at = ? WHERE sku = ? IF version = ?`
          : `UPDATE catalog_items SET name = ?, price = ?, version = ?, updated_at = ?, quantity = ? WHERE sku = ? IF version = ?`;
      const params =
        update.quantity === undefined
          ? [update.name, price, version, now, update.sku, types.Long.fromNumber(current)]
          : [update.name, price, version, now, update.quantity, update.sku, types.Long.fromNumber(current)];
      if ((await this.client.execute(query, params, LWT)).wasApplied()) return true;
    }
    return false;
  }
}
