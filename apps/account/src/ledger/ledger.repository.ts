import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';

export interface BalanceState {
  balance: number;
  version: number;
}

const long = (value: number) => types.Long.fromNumber(value);
const num = (value: unknown) => (value === null || value === undefined ? 0 : Number(value));

@Injectable()
export class LedgerRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  /** Creates the account's partition with a zero balance; does nothing when it exists. */
  async open(userId: string): Promise<void> {
    await this.client.execute('INSERT INTO ledger (user_id, balance, version) VALUES (?, ?, ?) IF NOT EXISTS', [userId, long(0), long(0)]);
  }

  async balance(userId: string): Promise<BalanceState | undefined> {
    const row = (await this.client.execute('SELECT balance, version FROM ledger WHERE user_id = ? LIMIT 1', [userId])).first();
    if (!row || row.get('version') === null) return undefined;
    return { balance: num(row.get('balance')), version: num(row.get('version')) };
  }

  /** The amount recorded under `entryId`, or undefined when there is none (0: a refused debit). */
  async entryAmount(userId: string, entryId: string): Promise<number | undefined> {
    const row = (await this.client.execute('SELECT amount FROM ledger WHERE user_id = ? AND entry_id = ?', [userId, entryId], { prepare: true })).first();
    return row ? num(row.get('amount')) : undefined;
  }

  /**
   * Writes the entry and the new balance together, only if nobody changed the account since
   * `state` was read (every write bumps `version`, so the entry's absence read then still holds).
   */
  async apply(userId: string, entryId: string, amount: number, state: BalanceState, now: Date): Promise<boolean> {
    const result = await this.client.batch(
      [
        {
          query: 'UPDATE ledger SET balance = ?, version = ? WHERE user_id = ? IF version = ?',
          params: [long(state.balance + amount), long(state.version + 1), userId, long(state.version)],
        },
        {
          query: 'INSERT INTO ledger (user_id, entry_id, amount, created_at) VALUES (?, ?, ?, ?)',
          params: [userId, entryId, long(amount), now],
        },
      ],
      { prepare: true },
    );
    return result.wasApplied();
  }
}
