import { PurchaseStatus } from '@app/contracts';
import type { Purchase, PurchaseStage } from './purchase.repository';

/** A NEW purchase is normally advanced at once in-process; the sweeper steps in after this. */
export const NEW_GRACE_MS = 5_000;
/** An open marker whose purchase was never written (a crash between the two) is dropped after this. */
export const ORPHAN_MARKER_MS = 60_000;
/** Resends of VoidReservation back off up to this. */
export const MAX_BACKOFF_MS = 30_000;

export interface SagaSettings {
  /** PURCHASE_RETRY_AFTER_MS: the first wait for shop's answer, doubled on each resend. */
  retryAfterMs: number;
  /** PURCHASE_VOID_AFTER_MS: how long RESERVING may last before the reservation is voided. */
  voidAfterMs: number;
}

/**
 * What moves a purchase. The first five come from outside (a redelivered step, the sweeper, shop's
 * answers); the last four are the outcomes of this saga's own commands, fed back by the loop that
 * runs them, so that what happens next is decided here too.
 */
export type SagaEvent =
  | { type: 'step' }
  | { type: 'deadline-passed' }
  | { type: 'stock-reserved' }
  | { type: 'stock-reservation-failed'; code: 'OUT_OF_STOCK' | 'UNKNOWN_SKU' | 'VOIDED'; reason: string }
  | { type: 'reservation-voided' }
  /** The debit is in the ledger (now or from an earlier try); `late`: it was the sweeper that got here. */
  | { type: 'debited'; late: boolean }
  | { type: 'insufficient-balance'; balance: number }
  | { type: 'refunded' }
  /** Our debit is in the ledger but another step moved the purchase on first (read again since). */
  | { type: 'debit-unclaimed' };

export type SagaEventType = SagaEvent['type'];

/** The write that fences a decision: a compare-and-set on the stage the decision started from. */
export type SagaChange =
  /** To another stage (stage_since becomes now). */
  | { kind: 'move'; stage: PurchaseStage; status: PurchaseStatus; reason: string | null; attempts: number }
  /** One more try within the same stage (stage_since kept, so the void deadline stands). */
  | { kind: 'retry'; attempts: number };

/** Effects, run in order after the change (if any) was applied. */
export type SagaCommand =
  | { type: 'debit'; entryId: string; amount: number; late: boolean }
  | { type: 'refund'; entryId: string; amount: number }
  | { type: 'send-reserve'; attempt: number; messageId: string; resend: boolean }
  | { type: 'send-void'; messageId: string; resend: boolean }
  | { type: 'set-due'; at: Date }
  | { type: 'mail'; messageId: string; template: 'purchase-completed' | 'purchase-cancelled'; reason?: string }
  | { type: 'close' }
  | { type: 'log'; level: 'log' | 'warn'; msg: string };

export interface SagaDecision {
  change?: SagaChange;
  commands: SagaCommand[];
  /**
   * When the change's compare-and-set finds the purchase moved on by someone else: read it again and
   * go on with this event; absent, stop (whoever moved it carries on).
   */
  onLost?: SagaEvent;
}

export const TERMINAL: readonly PurchaseStage[] = ['COMPLETED', 'REJECTED', 'CANCELLED'];

export function isTerminal(stage: PurchaseStage): boolean {
  return TERMINAL.includes(stage);
}

/** The open marker's first deadline: one for both NEW and the first RESERVING wait, so moving on needs no second write of it. */
export function firstDueAt(now: Date, settings: SagaSettings): Date {
  return new Date(now.getTime() + Math.min(NEW_GRACE_MS, settings.retryAfterMs));
}

/** The open marker is written just before the purchase; long without one, the insert never happened. */
export function isOrphanMarker(dueAt: Date, now: Date): boolean {
  return now.getTime() - dueAt.getTime() > ORPHAN_MARKER_MS;
}

export function voidedReason(settings: SagaSettings): string {
  return `the shop did not confirm the reservation within ${Math.round(settings.voidAfterMs / 1000)} s; the purchase was cancelled and refunded`;
}

export const reserveStockId = (purchaseId: string, attempt: number) => `reserve-stock:${purchaseId}:${attempt}`;
export const voidReservationId = (purchaseId: string, now: Date) => `void-reservation:${purchaseId}:${now.getTime()}`;

type Rule = (p: Purchase, event: SagaEvent, now: Date, settings: SagaSettings) => SagaDecision;

const move = (stage: PurchaseStage, status: PurchaseStatus, reason: string | null = null, attempts = 0): SagaChange => ({
  kind: 'move',
  stage,
  status,
  reason,
  attempts,
});
const STEP: SagaEvent = { type: 'step' };

// ── the rules, one per cell kind of the table below ─────────────────────────────────────────────

/** Nothing to do now (waiting for shop, for the sweeper, or an outcome that does not apply here). */
const wait: Rule = () => ({ commands: [] });

/** NEW, anything: reject a line of an unknown sku, otherwise debit the whole amount once (the outcome decides the next move). */
const start: Rule = (p, event) => {
  const unknown = p.lines.find((line) => line.unitPrice === null);
  if (unknown) {
    return { change: move('REJECTED', 'REJECTED', `unknown sku: "${unknown.sku}" is not in the catalog`), commands: [], onLost: STEP };
  }
  return { commands: [{ type: 'debit', entryId: `debit:${p.purchaseId}`, amount: -p.amount, late: event.type === 'deadline-passed' }] };
};

/** NEW, debited: ask shop. If someone else moved it first and that was a rejection, our debit must go back. */
const reserve: Rule = (p, event, now, settings) => {
  const late = event.type === 'debited' && event.late;
  const commands: SagaCommand[] = [];
  // The open marker's deadline, set at insert, stands for this first wait unless the sweeper is here because it passed.
  if (late) commands.push({ type: 'set-due', at: new Date(now.getTime() + settings.retryAfterMs) });
  commands.push({ type: 'send-reserve', attempt: 1, messageId: reserveStockId(p.purchaseId, 1), resend: false });
  return { change: move('RESERVING', 'PENDING', null, 1), commands, onLost: { type: 'debit-unclaimed' } };
};

/** NEW, insufficient balance. */
const rejectUnpaid: Rule = (p, event) => {
  const balance = event.type === 'insufficient-balance' ? event.balance : 0;
  const reason = `insufficient balance: the purchase costs ${p.amount} cents and the balance is ${balance} cents`;
  return { change: move('REJECTED', 'REJECTED', reason), commands: [] };
};

/** RESERVING, StockReserved. */
const complete: Rule = () => ({ change: move('COMPLETED', 'COMPLETED'), commands: [], onLost: STEP });

/** RESERVING or VOIDING, StockReservationFailed: shop holds nothing for it; give the money back. */
const reservationFailed: Rule = (p, event, now, settings) => {
  const failed = event.type === 'stock-reservation-failed' ? event : undefined;
  const reason = failed?.code === 'VOIDED' ? voidedReason(settings) : (failed?.reason ?? null);
  return { change: move('REFUNDING', 'PENDING', reason), commands: [], onLost: STEP };
};

/** RESERVING or VOIDING, ReservationVoided. */
const voided: Rule = (p, event, now, settings) => ({ change: move('REFUNDING', 'PENDING', voidedReason(settings)), commands: [], onLost: STEP });

/** RESERVING, deadline passed: resend ReserveStock with backoff, or void once PURCHASE_VOID_AFTER_MS is up. */
const reserveTimedOut: Rule = (p, event, now, settings) => {
  if (now.getTime() - p.stageSince.getTime() >= settings.voidAfterMs) {
    return {
      change: move('VOIDING', 'PENDING', null, 1),
      commands: [
        { type: 'log', level: 'warn', msg: 'no answer from shop in time: voiding the reservation' },
        { type: 'set-due', at: new Date(now.getTime() + settings.retryAfterMs) },
        { type: 'send-void', messageId: voidReservationId(p.purchaseId, now), resend: false },
      ],
    };
  }
  const attempts = p.attempts + 1;
  const untilVoid = p.stageSince.getTime() + settings.voidAfterMs - now.getTime();
  const backoff = Math.min(settings.retryAfterMs * 2 ** (attempts - 1), Math.max(untilVoid, 0));
  return {
    change: { kind: 'retry', attempts },
    commands: [
      { type: 'set-due', at: new Date(now.getTime() + backoff) },
      { type: 'send-reserve', attempt: attempts, messageId: reserveStockId(p.purchaseId, attempts), resend: true },
    ],
  };
};

/** VOIDING, deadline passed: shop answers VoidReservation whatever its state, so keep asking (backoff up to MAX_BACKOFF_MS). */
const resendVoid: Rule = (p, event, now, settings) => {
  const attempts = p.attempts + 1;
  const backoff = Math.min(settings.retryAfterMs * 2 ** (attempts - 1), MAX_BACKOFF_MS);
  return {
    change: { kind: 'retry', attempts },
    commands: [
      { type: 'set-due', at: new Date(now.getTime() + backoff) },
      { type: 'send-void', messageId: voidReservationId(p.purchaseId, now), resend: true },
    ],
  };
};

/** VOIDING, StockReserved: too late; shop is voiding this reservation and will answer ReservationVoided. */
const lateReserved: Rule = () => ({ commands: [{ type: 'log', level: 'log', msg: 'late StockReserved ignored: the purchase is being voided' }] });

/** REFUNDING, anything: the refund first (once per purchase in the ledger), then the move. */
const refund: Rule = (p) => ({ commands: [{ type: 'refund', entryId: `refund:${p.purchaseId}`, amount: p.amount }] });

/** REFUNDING, refunded. */
const cancel: Rule = (p) => ({ change: move('CANCELLED', 'CANCELLED', p.reason), commands: [] });

/** A terminal purchase: request its mail (idempotent by message id), then forget it. */
const finish: Rule = (p) => {
  const commands: SagaCommand[] = [];
  if (p.stage === 'COMPLETED') commands.push({ type: 'mail', messageId: `purchase-completed:${p.purchaseId}`, template: 'purchase-completed' });
  if (p.stage === 'CANCELLED') {
    commands.push({ type: 'mail', messageId: `purchase-cancelled:${p.purchaseId}`, template: 'purchase-cancelled', reason: p.reason ?? 'cancelled' });
  }
  commands.push({ type: 'close' });
  return { commands };
};

/** REJECTED, debit-unclaimed: a rejection won the race against our debit; the debit goes back. */
const returnDebit: Rule = (p) => ({ commands: [{ type: 'refund', entryId: `refund:${p.purchaseId}`, amount: p.amount }] });

// ── the transition table: every stage × every event, in one place ───────────────────────────────
//
// NEW ──debit──▶ RESERVING ──StockReserved──▶ COMPLETED
//  │                │  └─StockReservationFailed─▶ REFUNDING ──refund──▶ CANCELLED
//  └─▶ REJECTED     └─(no answer: resend, then)─▶ VOIDING ──ReservationVoided / StockReservationFailed──▶ REFUNDING
//
// An input a stage has no use for advances it as a plain step would (so a redelivery or a reply
// that overtook the debit still moves the purchase on).
/* prettier-ignore */
export const SAGA_TABLE: Readonly<Record<PurchaseStage, Readonly<Record<SagaEventType, Rule>>>> = {
  //           step       deadline-passed   stock-reserved   stock-reservation-failed   reservation-voided   debited   insufficient-balance   refunded   debit-unclaimed
  NEW:       { step: start,  'deadline-passed': start,           'stock-reserved': start,        'stock-reservation-failed': start,             'reservation-voided': start,  debited: reserve, 'insufficient-balance': rejectUnpaid, refunded: wait,   'debit-unclaimed': wait },
  RESERVING: { step: wait,   'deadline-passed': reserveTimedOut, 'stock-reserved': complete,     'stock-reservation-failed': reservationFailed, 'reservation-voided': voided, debited: wait,    'insufficient-balance': wait,         refunded: wait,   'debit-unclaimed': wait },
  VOIDING:   { step: wait,   'deadline-passed': resendVoid,      'stock-reserved': lateReserved, 'stock-reservation-failed': reservationFailed, 'reservation-voided': voided, debited: wait,    'insufficient-balance': wait,         refunded: wait,   'debit-unclaimed': wait },
  REFUNDING: { step: refund, 'deadline-passed': refund,          'stock-reserved': refund,       'stock-reservation-failed': refund,            'reservation-voided': refund, debited: wait,    'insufficient-balance': wait,         refunded: cancel, 'debit-unclaimed': wait },
  COMPLETED: { step: finish, 'deadline-passed': finish,          'stock-reserved': finish,       'stock-reservation-failed': finish,            'reservation-voided': finish, debited: wait,    'insufficient-balance': wait,         refunded: wait,   'debit-unclaimed': wait },
  REJECTED:  { step: finish, 'deadline-passed': finish,          'stock-reserved': finish,       'stock-reservation-failed': finish,            'reservation-voided': finish, debited: wait,    'insufficient-balance': wait,         refunded: wait,   'debit-unclaimed': returnDebit },
  CANCELLED: { step: finish, 'deadline-passed': finish,          'stock-reserved': finish,       'stock-reservation-failed': finish,            'reservation-voided': finish, debited: wait,    'insufficient-balance': wait,         refunded: wait,   'debit-unclaimed': wait },
};

/**
 * The account side of the purchase saga as a pure function: from the purchase as stored and what
 * just happened, the compare-and-set to write (fenced on `purchase.stage`) and the effects to run
 * after it. Every effect is idempotent (ledger entries and message ids are keyed by the purchase),
 * so running a decision again from the stored state after a crash changes nothing twice.
 */
export function decide(purchase: Purchase, event: SagaEvent, now: Date, settings: SagaSettings): SagaDecision {
  return SAGA_TABLE[purchase.stage][event.type](purchase, event, now, settings);
}
