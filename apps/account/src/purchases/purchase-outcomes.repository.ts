import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';
import { OutcomeCounts, PurchaseOutcomes } from '@app/contracts';

export type TerminalStatus = keyof OutcomeCounts;

/** A cart purchase is counted twice: in its status's row and in `cart:<status>`. */
const CART = 'cart:';

const none = (): OutcomeCounts => ({ COMPLETED: 0, REJECTED: 0, CANCELLED: 0 });

/** The count of purchases per terminal status, kept in a Cassandra counter row per status. */
@Injectable()
export class PurchaseOutcomesRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  /** Not idempotent, so never retried by the driver: called once by the instance that made the purchase terminal. */
  async add(status: TerminalStatus, { cart = false } = {}): Promise<void> {
    const query = 'UPDATE purchase_outcomes SET purchases = purchases + 1 WHERE status = ?';
    const options = { prepare: true, isIdempotent: false };
    if (!cart) {
      await this.client.execute(query, [status], options);
      return;
    }
    await this.client.batch(
      [
        { query, params: [status] },
        { query, params: [`${CART}${status}`] },
      ],
      { ...options, counter: true },
    );
  }

  async all(): Promise<PurchaseOutcomes> {
    const counts: PurchaseOutcomes = { ...none(), cart: none() };
    const rows = await this.client.execute('SELECT status, purchases FROM purchase_outcomes', [], { prepare: true });
    for (const row of rows) {
      const key = row.get('status') as string;
      const [into, status] = key.startsWith(CART) ? [counts.cart, key.slice(CART.length)] : [counts as OutcomeCounts, key];
      if (status in into) into[status as TerminalStatus] = Number(row.get('purchases') as types.Long);
    }
    return counts;
  }
}
