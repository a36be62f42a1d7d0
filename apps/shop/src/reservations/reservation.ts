export type ReservationStatus = 'RESERVED' | 'FAILED' | 'VOIDED';
export type FailureCode = 'OUT_OF_STOCK' | 'UNKNOWN_SKU' | 'VOIDED';

/** What shop decided for one purchase of one sku; one row per purchase, never decided twice. */
export interface Reservation {
  purchaseId: string;
  /** Units held (0 unless it was RESERVED at some point). */
  quantity: number;
  status: ReservationStatus;
  code?: FailureCode;
  reason?: string;
  at: Date;
}

export type SagaCommand =
  { type: 'reserve'; purchaseId: string; sku: string; quantity: number } | { type: 'void'; purchaseId: string; sku: string; quantity: number };

export type SagaOutcome =
  | { type: 'reserved'; purchaseId: string; sku: string; quantity: number }
  | { type: 'failed'; purchaseId: string; code: FailureCode; reason: string }
  | { type: 'voided'; purchaseId: string };

/** The state one decision starts from: the item's quantity (null: no such item) and the rows already written. */
export interface StockState {
  quantity: number | null;
  rows: Map<string, Reservation>;
}

/** What to write, all at once and only if the quantity is still `expectedQuantity`. */
export interface StockPlan {
  expectedQuantity: number | null;
  nextQuantity: number | null;
  inserts: Reservation[];
  /** Purchases whose RESERVED row becomes VOIDED (their units go back). */
  voids: string[];
  outcomes: SagaOutcome[];
}

const VOIDED_REASON = 'The purchase was abandoned before the item could be reserved.';

function outcomeOf(command: SagaCommand, row: Reservation): SagaOutcome {
  if (command.type === 'void') return { type: 'voided', purchaseId: command.purchaseId };
  switch (row.status) {
    case 'RESERVED':
      return { type: 'reserved', purchaseId: row.purchaseId, sku: command.sku, quantity: row.quantity };
    case 'FAILED':
      return { type: 'failed', purchaseId: row.purchaseId, code: row.code ?? 'OUT_OF_STOCK', reason: row.reason ?? 'The item could not be reserved.' };
    case 'VOIDED':
      return { type: 'failed', purchaseId: row.purchaseId, code: 'VOIDED', reason: row.reason ?? VOIDED_REASON };
  }
}

/**
 * Decides a batch of saga commands for one sku, in arrival order, from one consistent state.
 * Pure, so the rules are testable on their own: a purchase is decided once (a repeat gets the
 * first answer), units are taken only while enough are left, a void returns what a purchase
 * holds and bars it from reserving later.
 */
export function planCommands(sku: string, state: StockState, commands: SagaCommand[], now: Date): StockPlan {
  const rows = new Map(state.rows);
  const inserted = new Map<string, Reservation>();
  const voids: string[] = [];
  const outcomes: SagaOutcome[] = [];
  let quantity = state.quantity;

  for (const command of commands) {
    const existing = rows.get(command.purchaseId);
    if (command.type === 'reserve') {
      if (existing) {
        outcomes.push(outcomeOf(command, existing));
        continue;
      }
      let row: Reservation;
      if (quantity === null) {
        row = { purchaseId: command.purchaseId, quantity: 0, status: 'FAILED', code: 'UNKNOWN_SKU', reason: `No item with sku "${sku}" exists.`, at: now };
      } else if (quantity >= command.quantity) {
        quantity -= command.quantity;
        row = { purchaseId: command.purchaseId, quantity: command.quantity, status: 'RESERVED', at: now };
      } else {
        row = {
          purchaseId: command.purchaseId,
          quantity: 0,
          status: 'FAILED',
          code: 'OUT_OF_STOCK',
          reason: `Not enough "${sku}" left: ${command.quantity} requested, ${quantity} available.`,
          at: now,
        };
      }
      rows.set(row.purchaseId, row);
      inserted.set(row.purchaseId, row);
      outcomes.push(outcomeOf(command, row));
      continue;
    }

    // void
    if (!existing) {
      const row: Reservation = { purchaseId: command.purchaseId, quantity: 0, status: 'VOIDED', reason: VOIDED_REASON, at: now };
      rows.set(row.purchaseId, row);
      inserted.set(row.purchaseId, row);
    } else if (existing.status === 'RESERVED') {
      if (quantity !== null) quantity += existing.quantity;
      const row: Reservation = { ...existing, status: 'VOIDED', reason: VOIDED_REASON, at: now };
      rows.set(row.purchaseId, row);
      if (inserted.has(row.purchaseId)) inserted.set(row.purchaseId, row);
      else voids.push(row.purchaseId);
    }
    outcomes.push(outcomeOf(command, rows.get(command.purchaseId)!));
  }

  return { expectedQuantity: state.quantity, nextQuantity: quantity, inserts: [...inserted.values()], voids, outcomes };
}
