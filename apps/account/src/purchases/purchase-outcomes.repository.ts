import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';
import { PurchaseOutcomes } from '@app/contracts';

export type TerminalStatus = keyof PurchaseOutcomes;

/** The count of purchases per terminal status, kept in a Cassandra counter row per status. */
@Injectable()
export class PurchaseOutcomesRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  /** Not idempotent, so never retried by the driver: called once by the instance that made the purchase terminal. */
  async add(status: TerminalStatus): Promise<void> {
    await this.client.execute('UPDATE purchase_outcomes SET purchases = purchases + 1 WHERE status = ?', [status], { prepare: true, isIdempotent: false });
  }

  async all(): Promise<PurchaseOutcomes> {
    const counts: PurchaseOutcomes = { COMPLETED: 0, REJECTED: 0, CANCELLED: 0 };
    const rows = await this.client.execute('SELECT status, purchases FROM purchase_outcomes', [], { prepare: true });
    for (const row of rows) {
      const status = row.get('status') as string;
      if (status in counts) counts[status as TerminalStatus] = Number(row.get('purchases') as types.Long);
    }
    return counts;
  }
}
