import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';

/** One outbox shard is plenty while price changes are admin actions; the key leaves room to spread. */
const OUTBOX_SHARD = 0;
const LWT = { prepare: true, serialConsistency: types.consistencies.localSerial };

/**
 * The price outbox: the `unpublished` map of each item's row (written by the price change's own
 * compare-and-set, `ItemsRepository.compareAndSetPrice`), the markers of skus with something to
 * publish, and the relay's lease per sku.
 */
@Injectable()
export class PriceOutboxRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  /** Written before the price change, so the relay can always find it. */
  async markOutbox(sku: string): Promise<void> {
    await this.client.execute(`INSERT INTO outbox_skus (shard, sku) VALUES (?, ?)`, [OUTBOX_SHARD, sku], { prepare: true });
  }

  /** Takes the sku's relay lease for `ttlSeconds`; false when another instance holds it. */
  async tryLeaseOutbox(sku: string, owner: string, ttlSeconds: number): Promise<boolean> {
    const result = await this.client.execute(`INSERT INTO outbox_leases (sku, owner) VALUES (?, ?) IF NOT EXISTS USING TTL ${ttlSeconds}`, [sku, owner], LWT);
    return result.wasApplied();
  }

  async releaseOutboxLease(sku: string, owner: string): Promise<void> {
    await this.client.execute(`DELETE FROM outbox_leases WHERE sku = ? IF owner = ?`, [sku, owner], LWT);
  }

  async outboxSkus(): Promise<string[]> {
    const result = await this.client.execute(`SELECT sku FROM outbox_skus WHERE shard = ?`, [OUTBOX_SHARD], { prepare: true });
    return result.rows.map((row) => row.get('sku') as string);
  }

  /** The unpublished events of one sku, oldest version first. */
  async unpublished(sku: string): Promise<{ version: number; event: string }[]> {
    const result = await this.client.execute(`SELECT unpublished FROM items WHERE sku = ? LIMIT 1`, [sku], {
      prepare: true,
      consistency: types.consistencies.localSerial,
    });
    const map = (result.first()?.get('unpublished') as Record<string, string> | null) ?? {};
    return Object.entries(map)
      .map(([version, event]) => ({ version: Number(version), event }))
      .sort((a, b) => a.version - b.version);
  }

  async removePublished(sku: string, versions: number[]): Promise<void> {
    await this.client.execute(`UPDATE items SET unpublished = unpublished - ? WHERE sku = ? IF EXISTS`, [versions.map(String), sku], LWT);
  }

  /** Removes the marker unless it was written again after `sinceMicros` (a newer change). */
  async clearOutbox(sku: string, sinceMicros: bigint): Promise<void> {
    await this.client.execute(
      `DELETE FROM outbox_skus USING TIMESTAMP ? WHERE shard = ? AND sku = ?`,
      [types.Long.fromString(sinceMicros.toString()), OUTBOX_SHARD, sku],
      { prepare: true },
    );
  }
}
