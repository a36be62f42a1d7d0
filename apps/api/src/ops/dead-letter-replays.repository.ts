import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';
import type { ReplayLedger } from '@app/messaging';

const LWT = { prepare: true, serialConsistency: types.consistencies.localSerial };
/** How long a claim protects a replay under way; far longer than a produce may take (10 s). */
const CLAIM_TTL_SECONDS = 120;

const long = (value: bigint) => types.Long.fromString(value.toString());

/**
 * The api's record of the Kafka dead letters it replayed (keyspace `api`, table
 * `dead_letter_replays`): one partition per dead-letter topic partition, one row per replayed or
 * claimed offset. A claim is a lightweight transaction, so two api instances replaying the same id
 * at once never both produce it.
 */
@Injectable()
export class DeadLetterReplaysRepository implements ReplayLedger {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  async replayed(topic: string, partition: number, from: bigint, to: bigint): Promise<Set<bigint>> {
    const offsets = new Set<bigint>();
    if (from >= to) return offsets;
    let pageState: string | undefined;
    do {
      const result = await this.client.execute(
        `SELECT record_offset FROM dead_letter_replays WHERE topic = ? AND record_partition = ? AND record_offset >= ? AND record_offset < ?`,
        [topic, partition, long(from), long(to)],
        { prepare: true, fetchSize: 5_000, pageState },
      );
      for (const row of result.rows) offsets.add(BigInt((row.get('record_offset') as types.Long).toString()));
      pageState = result.pageState ?? undefined;
    } while (pageState);
    return offsets;
  }

  async countReplayed(topic: string, partition: number, from: bigint, to: bigint): Promise<number> {
    if (from >= to) return 0;
    const row = (
      await this.client.execute(
        `SELECT COUNT(*) AS n FROM dead_letter_replays WHERE topic = ? AND record_partition = ? AND record_offset >= ? AND record_offset < ?`,
        [topic, partition, long(from), long(to)],
        { prepare: true },
      )
    ).first();
    return Number((row?.get('n') as types.Long | undefined) ?? 0);
  }

  async claim(topic: string, partition: number, offset: bigint, owner: string): Promise<boolean> {
    const result = await this.client.execute(
      `INSERT INTO dead_letter_replays (topic, record_partition, record_offset, claimed_by) VALUES (?, ?, ?, ?) IF NOT EXISTS USING TTL ${CLAIM_TTL_SECONDS}`,
      [topic, partition, long(offset), owner],
      LWT,
    );
    return result.wasApplied();
  }

  async confirm(topic: string, partition: number, offset: bigint, owner: string): Promise<void> {
    await this.client.execute(
      `UPDATE dead_letter_replays SET replayed_at = ? WHERE topic = ? AND record_partition = ? AND record_offset = ? IF claimed_by = ?`,
      [new Date(), topic, partition, long(offset), owner],
      LWT,
    );
  }

  async release(topic: string, partition: number, offset: bigint, owner: string): Promise<void> {
    await this.client.execute(
      `DELETE FROM dead_letter_replays WHERE topic = ? AND record_partition = ? AND record_offset = ? IF claimed_by = ?`,
      [topic, partition, long(offset), owner],
      LWT,
    );
  }
}
