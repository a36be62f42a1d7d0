import { Inject, Injectable, Logger } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';
import { DomainError, StockErrorCodes } from '@app/contracts';

export interface StockLevel {
  storeId: string;
  sku: string;
  quantity: number;
  updatedAt: Date;
}

// The read models `process` maintains in its keyspace (see apps/process/src/migrations); read only.
const Q = {
  page: 'SELECT store_id, sku, quantity, updated_at FROM stock.stock_levels WHERE store_id = ? AND sku > ? LIMIT ?',
  pageBelow: 'SELECT store_id, sku, quantity, updated_at FROM stock.stock_levels WHERE store_id = ? AND sku > ? AND quantity < ? LIMIT ? ALLOW FILTERING',
  one: 'SELECT store_id, sku, quantity, updated_at FROM stock.stock_levels WHERE store_id = ? AND sku = ?',
  // through the storage-attached index on sku (process migration 002)
  bySku: 'SELECT store_id, sku, quantity, updated_at FROM stock.stock_levels WHERE sku = ?',
};

function toLevel(row: types.Row): StockLevel {
  return {
    storeId: row.get('store_id') as string,
    sku: row.get('sku') as string,
    quantity: (row.get('quantity') as types.Long).toNumber(),
    updatedAt: row.get('updated_at') as Date,
  };
}

@Injectable()
export class StockLevelsRepository {
  private readonly logger = new Logger(StockLevelsRepository.name);

  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  /** Up to `limit` levels of a store in sku order, strictly after `after` ('' = from the start). */
  async page(storeId: string, after: string, limit: number, below?: number): Promise<StockLevel[]> {
    const rs =
      below === undefined
        ? await this.run(Q.page, [storeId, after, limit])
        : await this.run(Q.pageBelow, [storeId, after, types.Long.fromNumber(below), limit]);
    return rs.rows.map(toLevel);
  }

  async one(storeId: string, sku: string): Promise<StockLevel | undefined> {
    const row = (await this.run(Q.one, [storeId, sku])).first();
    return row ? toLevel(row) : undefined;
  }

  async bySku(sku: string): Promise<StockLevel[]> {
    const rows: StockLevel[] = [];
    const rs = await this.run(Q.bySku, [sku], 5000);
    for (const row of rs.rows) rows.push(toLevel(row));
    let page = rs;
    while (page.pageState) {
      page = await this.client.execute(Q.bySku, [sku], { prepare: true, fetchSize: 5000, pageState: page.pageState });
      for (const row of page.rows) rows.push(toLevel(row));
    }
    return rows;
  }

  private async run(query: string, params: unknown[], fetchSize?: number): Promise<types.ResultSet> {
    try {
      return await this.client.execute(query, params, { prepare: true, fetchSize });
    } catch (error) {
      this.logger.warn({ msg: 'stock read failed', err: (error as Error).message });
      throw new DomainError(StockErrorCodes.ReadUnavailable, 'unavailable', 'Stock levels cannot be read right now; try again shortly.');
    }
  }
}
