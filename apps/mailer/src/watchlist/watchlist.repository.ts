import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';

export interface Watcher {
  userId: string;
  email: string;
  name?: string;
}

@Injectable()
export class WatchlistRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  async watch(sku: string, watcher: Watcher): Promise<void> {
    await this.client.execute(
      'INSERT INTO watchers_by_sku (sku, user_id, email, name, watched_at) VALUES (?, ?, ?, ?, ?)',
      [sku, watcher.userId, watcher.email, watcher.name ?? null, new Date()],
      { prepare: true },
    );
  }

  async unwatch(sku: string, userId: string): Promise<void> {
    await this.client.execute('DELETE FROM watchers_by_sku WHERE sku = ? AND user_id = ?', [sku, userId], { prepare: true });
  }

  /** Every watcher of a sku, page by page (a popular item may have many). */
  async *watchers(sku: string): AsyncGenerator<Watcher[]> {
    let pageState: string | undefined;
    do {
      const page = await this.client.execute('SELECT user_id, email, name FROM watchers_by_sku WHERE sku = ?', [sku], {
        prepare: true,
        fetchSize: 500,
        pageState,
      });
      yield page.rows.map((row) => ({
        userId: row.get('user_id') as string,
        email: row.get('email') as string,
        name: (row.get('name') as string | null) ?? undefined,
      }));
      pageState = page.pageState ?? undefined;
    } while (pageState);
  }

  /** The newest price version handled for the sku, 0 if none. */
  async handledVersion(sku: string): Promise<number> {
    const row = (await this.client.execute('SELECT version FROM price_versions WHERE sku = ? LIMIT 1', [sku], { prepare: true })).first();
    return row ? Number(row.get('version') as types.Long) : 0;
  }

  /** Idempotent: versions are rows, so the watermark (the newest) can only move forward. */
  async recordHandled(sku: string, version: number, oldPrice: number, newPrice: number): Promise<void> {
    await this.client.execute(
      'INSERT INTO price_versions (sku, version, old_price, new_price, handled_at) VALUES (?, ?, ?, ?, ?)',
      [sku, types.Long.fromNumber(version), types.Long.fromNumber(oldPrice), types.Long.fromNumber(newPrice), new Date()],
      { prepare: true },
    );
  }
}
