import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';
import { FailureCode, Reservation, ReservationStatus, StockPlan, StockState } from './reservation';

/** The reservation half of the `items` table: one clustering row per purchase in the sku's partition. */
@Injectable()
export class ReservationsRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  /** `serial` completes any lightweight transaction left in flight (after a timeout or a lost race). */
  async load(sku: string, purchaseIds: string[], { serial = false } = {}): Promise<StockState> {
    const options = { prepare: true, ...(serial ? { consistency: types.consistencies.localSerial } : {}) };
    const [item, rows] = await Promise.all([
      this.client.execute(`SELECT name, quantity FROM items WHERE sku = ? LIMIT 1`, [sku], options),
      this.client.execute(
        `SELECT purchase_id, res_quantity, res_status, res_code, res_reason, res_at FROM items WHERE sku = ? AND purchase_id IN ?`,
        [sku, purchaseIds],
        options,
      ),
    ]);
    const first = item.first();
    const quantity = first && first.get('name') !== null ? (first.get('quantity') as number) : null;
    const reservations = new Map<string, Reservation>();
    for (const row of rows.rows) {
      const reservation: Reservation = {
        purchaseId: row.get('purchase_id') as string,
        quantity: (row.get('res_quantity') as number | null) ?? 0,
        status: row.get('res_status') as ReservationStatus,
        code: (row.get('res_code') as FailureCode | null) ?? undefined,
        reason: (row.get('res_reason') as string | null) ?? undefined,
        at: row.get('res_at') as Date,
      };
      reservations.set(reservation.purchaseId, reservation);
    }
    return { quantity, rows: reservations };
  }

  /**
   * Applies a plan in one conditional batch of the sku's partition: the quantity only if it is
   * still the expected one, each new row only if absent, each void only if still RESERVED.
   * False when any condition failed (nothing was written).
   */
  async commit(sku: string, plan: StockPlan, at: Date): Promise<boolean> {
    const queries: { query: string; params: unknown[] }[] = [];
    if (plan.expectedQuantity !== null && plan.nextQuantity !== plan.expectedQuantity) {
      queries.push({
        query: `UPDATE items SET quantity = ?, updated_at = ? WHERE sku = ? IF quantity = ?`,
        params: [plan.nextQuantity, at, sku, plan.expectedQuantity],
      });
    }
    for (const row of plan.inserts) {
      queries.push({
        query: `INSERT INTO items (sku, purchase_id, res_quantity, res_status, res_code, res_reason, res_at) ` + `VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
        params: [sku, row.purchaseId, row.quantity, row.status, row.code ?? null, row.reason ?? null, row.at],
      });
    }
    for (const purchaseId of plan.voids) {
      queries.push({
        query: `UPDATE items SET res_status = 'VOIDED', res_at = ? WHERE sku = ? AND purchase_id = ? IF res_status = 'RESERVED'`,
        params: [at, sku, purchaseId],
      });
    }
    if (queries.length === 0) return true;
    const options = { prepare: true, serialConsistency: types.consistencies.localSerial };
    const result =
      queries.length === 1
        ? await this.client.execute(queries[0].query, queries[0].params, options)
        : await this.client.batch(queries, { ...options, logged: true });
    return result.wasApplied();
  }
}
