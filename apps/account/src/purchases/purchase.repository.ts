import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { createHash } from 'node:crypto';
import { CASSANDRA_CLIENT } from '@app/cassandra';
import { PurchaseStatus } from '@app/contracts';

/** Where a purchase is in the saga; `status` is what the buyer sees. */
export type PurchaseStage = 'NEW' | 'RESERVING' | 'VOIDING' | 'REFUNDING' | 'COMPLETED' | 'REJECTED' | 'CANCELLED';

/** One sku of a purchase; `unitPrice` is null when the catalog did not know the sku. */
export interface PurchaseLine {
  sku: string;
  quantity: number;
  unitPrice: number | null;
}

export interface Purchase {
  purchaseId: string;
  userId: string;
  /** The first line's sku; `quantity` counts the units of every line. */
  sku: string;
  quantity: number;
  /** The single line's; null when the catalog did not know the sku, or for a cart purchase. */
  unitPrice: number | null;
  /** Every line, each sku once (one for a single-item purchase). */
  lines: PurchaseLine[];
  amount: number;
  status: PurchaseStatus;
  stage: PurchaseStage;
  reason: string | null;
  attempts: number;
  stageSince: Date;
  /** Of the request that started it; carried by every message about it. */
  correlationId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface StageChange {
  stage: PurchaseStage;
  status: PurchaseStatus;
  reason?: string | null;
  attempts?: number;
}

export interface ListCursor {
  createdAt: Date;
  purchaseId: string;
}

const SHARDS = 16;
const long = (value: number) => types.Long.fromNumber(value);

export function shardOf(purchaseId: string): number {
  return createHash('sha1').update(purchaseId).digest().readUInt16BE(0) % SHARDS;
}

function purchaseIdFallback(row: types.Row): string {
  return row.get('purchase_id') as string;
}

/** The lines column, or for a purchase recorded before it existed, its one line. */
function linesOf(row: types.Row, unitPrice: number | null): PurchaseLine[] {
  const json = row.get('lines') as string | null | undefined;
  if (json) return JSON.parse(json) as PurchaseLine[];
  return [{ sku: row.get('sku'), quantity: row.get('quantity'), unitPrice }];
}

function toPurchase(row: types.Row): Purchase {
  const stored = row.get('unit_price') as types.Long | null;
  const unitPrice = stored === null ? null : Number(stored);
  return {
    purchaseId: row.get('purchase_id'),
    userId: row.get('user_id'),
    sku: row.get('sku'),
    quantity: row.get('quantity'),
    unitPrice,
    lines: linesOf(row, unitPrice),
    amount: Number(row.get('amount') ?? 0),
    status: row.get('status'),
    stage: row.get('stage'),
    reason: row.get('reason'),
    attempts: row.get('attempts') ?? 0,
    stageSince: row.get('stage_since'),
    correlationId: row.get('correlation_id') ?? purchaseIdFallback(row),
    createdAt: row.get('created_at'),
    updatedAt: row.get('updated_at'),
  };
}

@Injectable()
export class PurchaseRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  /**
   * Records a new purchase once per id. The buyer's listing row and the open marker go first, so a
   * crash never leaves a recorded purchase that the sweeper cannot find or the buyer cannot list; a losing repeat removes
   * the listing row it added. Returns the purchase as stored (the first one on a repeat).
   */
  async insertOnce(purchase: Purchase, dueAt: Date): Promise<{ created: boolean; purchase: Purchase }> {
    // Two plain writes, not a logged batch: they need not land together, only both before the
    // purchase (a listing row without a purchase is skipped, a marker without one is dropped).
    await Promise.all([
      this.client.execute('INSERT INTO purchases_by_user (user_id, created_at, purchase_id) VALUES (?, ?, ?)', [
        purchase.userId,
        purchase.createdAt,
        purchase.purchaseId,
      ]),
      this.client.execute('INSERT INTO open_purchases (shard, purchase_id, due_at) VALUES (?, ?, ?)', [
        shardOf(purchase.purchaseId),
        purchase.purchaseId,
        dueAt,
      ]),
    ]);
    const result = await this.client.execute(
      'INSERT INTO purchases (purchase_id, user_id, sku, quantity, unit_price, lines, amount, status, stage, reason, attempts, stage_since, correlation_id, created_at, updated_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS',
      [
        purchase.purchaseId,
        purchase.userId,
        purchase.sku,
        purchase.quantity,
        purchase.unitPrice === null ? null : long(purchase.unitPrice),
        JSON.stringify(purchase.lines),
        long(purchase.amount),
        purchase.status,
        purchase.stage,
        purchase.reason,
        purchase.attempts,
        purchase.stageSince,
        purchase.correlationId,
        purchase.createdAt,
        purchase.updatedAt,
      ],
    );
    if (result.wasApplied()) return { created: true, purchase };
    const existing = toPurchase(result.first());
    if (existing.createdAt.getTime() !== purchase.createdAt.getTime() || existing.userId !== purchase.userId) {
      await this.client.execute('DELETE FROM purchases_by_user WHERE user_id = ? AND created_at = ? AND purchase_id = ?', [
        purchase.userId,
        purchase.createdAt,
        purchase.purchaseId,
      ]);
    }
    return { created: false, purchase: existing };
  }

  async find(purchaseId: string): Promise<Purchase | undefined> {
    const row = (await this.client.execute('SELECT * FROM purchases WHERE purchase_id = ?', [purchaseId])).first();
    return row ? toPurchase(row) : undefined;
  }

  /** Moves the purchase from stage `from` to `change.stage`; false when it was not in `from` any more. */
  async transition(purchaseId: string, from: PurchaseStage, change: StageChange, now: Date): Promise<boolean> {
    const result = await this.client.execute(
      'UPDATE purchases SET stage = ?, status = ?, reason = ?, attempts = ?, stage_since = ?, updated_at = ? WHERE purchase_id = ? IF stage = ?',
      [change.stage, change.status, change.reason ?? null, change.attempts ?? 0, now, now, purchaseId, from],
    );
    return result.wasApplied();
  }

  /** Counts another try within the same stage; guarded so a stale sweeper cannot overwrite a newer stage. */
  async countAttempt(purchaseId: string, stage: PurchaseStage, attempts: number, now: Date): Promise<boolean> {
    const result = await this.client.execute('UPDATE purchases SET attempts = ?, updated_at = ? WHERE purchase_id = ? IF stage = ?', [
      attempts,
      now,
      purchaseId,
      stage,
    ]);
    return result.wasApplied();
  }

  async setDue(purchaseId: string, dueAt: Date): Promise<void> {
    await this.client.execute('INSERT INTO open_purchases (shard, purchase_id, due_at) VALUES (?, ?, ?)', [shardOf(purchaseId), purchaseId, dueAt]);
  }

  async close(purchaseId: string): Promise<void> {
    await this.client.execute('DELETE FROM open_purchases WHERE shard = ? AND purchase_id = ?', [shardOf(purchaseId), purchaseId]);
  }

  /** Every open marker: one per purchase the saga has not finished, with its next deadline. */
  async openMarkers(): Promise<{ purchaseId: string; dueAt: Date }[]> {
    const markers: { purchaseId: string; dueAt: Date }[] = [];
    for (let shard = 0; shard < SHARDS; shard++) {
      const rows = await this.client.execute('SELECT purchase_id, due_at FROM open_purchases WHERE shard = ?', [shard], { fetchSize: 5000 });
      for (const row of rows.rows) markers.push({ purchaseId: row.get('purchase_id'), dueAt: row.get('due_at') as Date });
    }
    return markers;
  }

  /** The buyer's purchases, newest first, after the (createdAt, purchaseId) cursor when given. */
  async listByUser(userId: string, limit: number, after?: ListCursor): Promise<ListCursor[]> {
    const rows = after
      ? await this.client.execute('SELECT created_at, purchase_id FROM purchases_by_user WHERE user_id = ? AND (created_at, purchase_id) < (?, ?) LIMIT ?', [
          userId,
          after.createdAt,
          after.purchaseId,
          limit,
        ])
      : await this.client.execute('SELECT created_at, purchase_id FROM purchases_by_user WHERE user_id = ? LIMIT ?', [userId, limit]);
    return rows.rows.map((row) => ({ createdAt: row.get('created_at') as Date, purchaseId: row.get('purchase_id') as string }));
  }
}
