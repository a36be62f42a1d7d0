import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';
import { Item } from './item';

const ITEM_COLUMNS = 'sku, name, price, quantity, price_version, created_at, updated_at';
const LWT = { prepare: true, serialConsistency: types.consistencies.localSerial };

function toItem(row: types.Row): Item | null {
  // A partition can exist without an item: reservations or voids recorded for an unknown sku.
  if (row.get('name') === null) return null;
  return {
    sku: row.get('sku') as string,
    name: row.get('name') as string,
    price: Number(row.get('price') as types.Long),
    quantity: row.get('quantity') as number,
    priceVersion: Number((row.get('price_version') as types.Long | null) ?? 0),
    createdAt: row.get('created_at') as Date,
    updatedAt: row.get('updated_at') as Date,
  };
}

/** The item half of the `items` table (its static columns); the price outbox is `PriceOutboxRepository`'s. */
@Injectable()
export class ItemsRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  /** `serial` reads through any lightweight transaction still in flight (after a timeout or a lost race). */
  async find(sku: string, { serial = false } = {}): Promise<Item | null> {
    const result = await this.client.execute(`SELECT ${ITEM_COLUMNS} FROM items WHERE sku = ? LIMIT 1`, [sku], {
      prepare: true,
      ...(serial ? { consistency: types.consistencies.localSerial } : {}),
    });
    const row = result.first();
    return row ? toItem(row) : null;
  }

  /** False if the sku exists already. */
  async insert(item: Item): Promise<boolean> {
    const result = await this.client.execute(
      `INSERT INTO items (sku, name, price, quantity, price_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      [item.sku, item.name, types.Long.fromNumber(item.price), item.quantity, types.Long.fromNumber(item.priceVersion), item.createdAt, item.updatedAt],
      LWT,
    );
    return result.wasApplied();
  }

  async compareAndSetQuantity(sku: string, expected: number, next: number, at: Date): Promise<boolean> {
    const result = await this.client.execute(`UPDATE items SET quantity = ?, updated_at = ? WHERE sku = ? IF quantity = ?`, [next, at, sku, expected], LWT);
    return result.wasApplied();
  }

  /** The new price and its outbox entry in one compare-and-set: both or neither. */
  async compareAndSetPrice(sku: string, expectedVersion: number, price: number, version: number, event: object, at: Date): Promise<boolean> {
    const result = await this.client.execute(
      `UPDATE items SET price = ?, price_version = ?, unpublished = unpublished + ?, updated_at = ? WHERE sku = ? IF price_version = ?`,
      [
        types.Long.fromNumber(price),
        types.Long.fromNumber(version),
        { [String(version)]: JSON.stringify(event) },
        at,
        sku,
        types.Long.fromNumber(expectedVersion),
      ],
      LWT,
    );
    return result.wasApplied();
  }

  /** Items in token order after `afterSku` (from the start without it); `fetch` partitions at most. */
  async pageAfter(afterSku: string | undefined, fetch: number): Promise<{ items: Item[]; lastSku?: string; exhausted: boolean }> {
    const query =
      afterSku === undefined
        ? `SELECT DISTINCT ${ITEM_COLUMNS} FROM items LIMIT ?`
        : `SELECT DISTINCT ${ITEM_COLUMNS} FROM items WHERE token(sku) > token(?) LIMIT ?`;
    const params = afterSku === undefined ? [fetch] : [afterSku, fetch];
    const result = await this.client.execute(query, params, { prepare: true });
    const rows = result.rows;
    return {
      items: rows.map(toItem).filter((item): item is Item => item !== null),
      lastSku: rows.length > 0 ? (rows[rows.length - 1].get('sku') as string) : undefined,
      exhausted: rows.length < fetch,
    };
  }
}
