import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';
import { TopUpCounts, TopUpStatus } from '@app/contracts';

const INCREMENT = 'UPDATE top_up_counts SET top_ups = top_ups + 1 WHERE status = ?';
const DECREMENT = 'UPDATE top_up_counts SET top_ups = top_ups - 1 WHERE status = ?';
/** Not idempotent, so never retried by the driver. */
const ONCE = { prepare: true, isIdempotent: false };

/** How many top-ups are in each status, kept in Cassandra counters (see 006_top_up_counts.cql). */
@Injectable()
export class TopUpCountsRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  /** Called once by the instance whose insert created the top-up. */
  async created(): Promise<void> {
    await this.client.execute(INCREMENT, ['CREATED'], ONCE);
  }

  /** Called once by the instance whose compare-and-set moved the status from `from` to `to`. */
  async moved(from: TopUpStatus, to: TopUpStatus): Promise<void> {
    if (from === 'PENDING') {
      await this.client.execute(INCREMENT, [to], ONCE);
      return;
    }
    await this.client.batch(
      [
        { query: DECREMENT, params: [from] },
        { query: INCREMENT, params: [to] },
      ],
      { ...ONCE, counter: true },
    );
  }

  async all(): Promise<TopUpCounts> {
    const read: Record<string, number> = {};
    for (const row of await this.client.execute('SELECT status, top_ups FROM top_up_counts', [], { prepare: true })) {
      read[row.get('status') as string] = Number(row.get('top_ups') as types.Long);
    }
    const SUCCEEDED = Math.max(read.SUCCEEDED ?? 0, 0);
    const FAILED = Math.max(read.FAILED ?? 0, 0);
    return { PENDING: Math.max((read.CREATED ?? 0) - SUCCEEDED - FAILED, 0), SUCCEEDED, FAILED };
  }
}
