import { Injectable, Logger } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import {
  AccountErrorCodes,
  DomainError,
  MessageContracts,
  PlacePurchaseRequest,
  PurchasePage,
  PurchaseView,
  ReservationVoided,
  ReserveStock,
  SignedPageTokens,
  StockReservationFailed,
  StockReserved,
  VoidReservation,
} from '@app/contracts';
import { KeyedLanes, RabbitClient, RabbitRecord } from '@app/messaging';
import { correlationId as currentCorrelationId, metricsRegistry, runWithCorrelation } from '@app/observability';
import { AccountEnv } from '../config/account.env';
import { LedgerService } from '../ledger/ledger.service';
import { MailPublisher } from '../mail/mail.publisher';
import { UsersService } from '../users/users.service';
import { ListCursor, Purchase, PurchaseRepository, PurchaseStage, StageChange, TERMINAL_STAGES } from './purchase.repository';

/** A NEW purchase is normally advanced at once in-process; the sweeper steps in after this. */
const NEW_GRACE_MS = 5_000;
/** An open marker whose purchase was never written (a crash between the two) is dropped after this. */
const ORPHAN_MARKER_MS = 60_000;
/** Resends of VoidReservation back off up to this. */
const MAX_BACKOFF_MS = 30_000;

const purchasesFinished = new Counter({
  name: 'purchases_finished_total',
  help: 'Purchases that reached a terminal status',
  labelNames: ['status'] as const,
  registers: [metricsRegistry],
});
const purchaseDuration = new Histogram({
  name: 'purchase_duration_seconds',
  help: 'From acceptance to terminal status',
  labelNames: ['status'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [metricsRegistry],
});
const sagaResends = new Counter({
  name: 'purchase_saga_resends_total',
  help: 'Saga commands sent again because shop did not answer in time',
  labelNames: ['command'] as const,
  registers: [metricsRegistry],
});

function view(p: Purchase): PurchaseView {
  const out: PurchaseView = {
    purchaseId: p.purchaseId,
    sku: p.sku,
    quantity: p.quantity,
    amount: p.amount,
    status: p.status,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
  if (p.reason) out.reason = p.reason;
  return out;
}

function notFound(purchaseId: string): DomainError {
  return new DomainError(AccountErrorCodes.PurchaseNotFound, 'not_found', `There is no purchase ${purchaseId} of yours.`);
}

/** A user's purchase list continues after this purchase (newest first). */
function cursorTokens(secret: string): SignedPageTokens<{ t: number; p: string }> {
  return new SignedPageTokens(secret, (position) => {
    const { t, p } = (position ?? {}) as { t?: unknown; p?: unknown };
    return Number.isSafeInteger(t) && (t as number) >= 0 && typeof p === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(p) ? { t: t as number, p } : undefined;
  });
}

/**
 * The account side of the purchase saga. Every step is driven from the purchase's stored stage and
 * moves it on with a compare-and-set, so a step run twice (a redelivery, a second instance, the
 * sweeper racing a reply) changes nothing twice; the debit and the refund are ledger entries keyed
 * by the purchase, applied at most once each.
 *
 * NEW ──debit──▶ RESERVING ──StockReserved──▶ COMPLETED
 *  │                │  └─StockReservationFailed─▶ REFUNDING ──refund──▶ CANCELLED
 *  └─▶ REJECTED     └─(no answer: resend, then)─▶ VOIDING ──ReservationVoided──▶ REFUNDING
 */
@Injectable()
export class PurchasesService {
  private readonly logger = new Logger(PurchasesService.name);
  /** One step at a time per purchase in this process (other instances are kept out by the stage compare-and-set). */
  private readonly lanes = new KeyedLanes();
  private readonly pageTokens: SignedPageTokens<{ t: number; p: string }>;
  /** Long polls waiting for a purchase to finish, by purchase id. */
  private readonly watchers = new Map<string, Set<(terminal?: Purchase) => void>>();

  constructor(
    private readonly purchases: PurchaseRepository,
    private readonly ledger: LedgerService,
    private readonly users: UsersService,
    private readonly mail: MailPublisher,
    private readonly rabbit: RabbitClient,
    private readonly env: AccountEnv,
  ) {
    this.pageTokens = cursorTokens(env.PURCHASE_PAGE_TOKEN_SECRET);
  }

  /** Records the purchase PENDING (once per id) and starts the saga without making the caller wait for it. */
  async place(request: PlacePurchaseRequest): Promise<PurchaseView> {
    const now = new Date();
    const unitPrice = request.unitPrice ?? null;
    const purchase: Purchase = {
      purchaseId: request.purchaseId,
      userId: request.userId,
      sku: request.sku,
      quantity: request.quantity,
      unitPrice,
      amount: unitPrice === null ? 0 : unitPrice * request.quantity,
      status: 'PENDING',
      stage: 'NEW',
      reason: null,
      attempts: 0,
      stageSince: now,
      correlationId: currentCorrelationId(),
      createdAt: now,
      updatedAt: now,
    };
    // One deadline for both NEW and the first RESERVING wait, so moving on needs no second write of the marker.
    const dueAt = new Date(now.getTime() + Math.min(NEW_GRACE_MS, this.env.PURCHASE_RETRY_AFTER_MS));
    const { created, purchase: stored } = await this.purchases.insertOnce(purchase, dueAt);
    if (stored.userId !== request.userId) throw notFound(request.purchaseId);
    // The row just written is the state to start from: no read back.
    if (created) setImmediate(() => void this.drive(stored.purchaseId, stored));
    return view(stored);
  }

  /**
   * With `waitMs`, a PENDING purchase is answered when this instance moves it to a terminal status,
   * or after `waitMs` (another instance may have moved it: the answer is read again either way).
   */
  async get(userId: string, purchaseId: string, waitMs = 0): Promise<PurchaseView> {
    // Watch before reading, so a change between the read and the wait is not missed.
    const watch = waitMs > 0 ? this.watch(purchaseId, waitMs) : undefined;
    try {
      let purchase = await this.purchases.find(purchaseId);
      if (!purchase || purchase.userId !== userId) throw notFound(purchaseId);
      if (watch && purchase.status === 'PENDING') {
        // Woken with the state this instance just wrote; after a timeout, read what there is.
        purchase = (await watch.changed) ?? (await this.purchases.find(purchaseId)) ?? purchase;
      }
      return view(purchase);
    } finally {
      watch?.cancel();
    }
  }

  private watch(purchaseId: string, waitMs: number): { changed: Promise<Purchase | undefined>; cancel: () => void } {
    let wake!: (terminal?: Purchase) => void;
    const changed = new Promise<Purchase | undefined>((resolve) => (wake = resolve));
    const timer = setTimeout(() => wake(), waitMs);
    const set = this.watchers.get(purchaseId) ?? new Set<(terminal?: Purchase) => void>();
    set.add(wake);
    this.watchers.set(purchaseId, set);
    return {
      changed,
      cancel: () => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0 && this.watchers.get(purchaseId) === set) this.watchers.delete(purchaseId);
        wake();
      },
    };
  }

  async list(userId: string, limit: number, pageToken?: string): Promise<PurchasePage> {
    const after = pageToken ? this.decodeCursor(pageToken) : undefined;
    const cursors = await this.purchases.listByUser(userId, limit + 1, after);
    const page = cursors.slice(0, limit);
    const found = await Promise.all(page.map((c) => this.purchases.find(c.purchaseId)));
    // A listing row is the purchase's only when their times agree: an attempt that crashed before
    // its insert, then retried with the same id, leaves an earlier row behind (shown once, not twice).
    const items = found
      .filter((p, i): p is Purchase => p !== undefined && p.userId === userId && p.createdAt.getTime() === page[i].createdAt.getTime())
      .map(view);
    return { items, nextPageToken: cursors.length > limit ? this.encodeCursor(page[page.length - 1]) : null };
  }

  private encodeCursor(cursor: ListCursor): string {
    return this.pageTokens.encode({ t: cursor.createdAt.getTime(), p: cursor.purchaseId });
  }

  private decodeCursor(token: string): ListCursor {
    const position = this.pageTokens.decode(token);
    if (!position) throw new DomainError(AccountErrorCodes.InvalidPageToken, 'invalid', 'pageToken is not one this api returned; start again without it.');
    return { createdAt: new Date(position.t), purchaseId: position.p };
  }

  onStockReserved(message: StockReserved): Promise<void> {
    return this.lanes.run(message.purchaseId, async () => {
      const p = await this.purchases.find(message.purchaseId);
      if (!p) return this.logger.warn({ msg: 'StockReserved for an unknown purchase', purchaseId: message.purchaseId });
      if (p.stage === 'RESERVING') {
        const moved = await this.move(p, { stage: 'COMPLETED', status: 'COMPLETED' });
        return this.step(message.purchaseId, false, moved);
      } else if (p.stage === 'VOIDING') {
        // Too late: shop is voiding this reservation and will answer ReservationVoided.
        this.logger.log({ msg: 'late StockReserved ignored: the purchase is being voided', purchaseId: p.purchaseId });
      }
      await this.step(message.purchaseId, false, p);
    });
  }

  onStockReservationFailed(message: StockReservationFailed): Promise<void> {
    return this.lanes.run(message.purchaseId, async () => {
      const p = await this.purchases.find(message.purchaseId);
      if (!p) return this.logger.warn({ msg: 'StockReservationFailed for an unknown purchase', purchaseId: message.purchaseId });
      if (p.stage === 'RESERVING' || p.stage === 'VOIDING') {
        const reason = message.code === 'VOIDED' ? this.voidedReason() : message.reason;
        return this.step(message.purchaseId, false, await this.move(p, { stage: 'REFUNDING', status: 'PENDING', reason }));
      }
      await this.step(message.purchaseId, false, p);
    });
  }

  onReservationVoided(message: ReservationVoided): Promise<void> {
    return this.lanes.run(message.purchaseId, async () => {
      const p = await this.purchases.find(message.purchaseId);
      if (!p) return this.logger.warn({ msg: 'ReservationVoided for an unknown purchase', purchaseId: message.purchaseId });
      if (p.stage === 'VOIDING' || p.stage === 'RESERVING') {
        return this.step(message.purchaseId, false, await this.move(p, { stage: 'REFUNDING', status: 'PENDING', reason: this.voidedReason() }));
      }
      await this.step(message.purchaseId, false, p);
    });
  }

  /** Advances one purchase as far as it can go now; safe to call at any time, any number of times. */
  drive(purchaseId: string, known?: Purchase): Promise<void> {
    return this.lanes.run(purchaseId, () => this.step(purchaseId, false, known)).catch((error: Error) =>
      this.logger.warn({ msg: 'purchase step failed; the sweeper will try again', purchaseId, err: error.message }),
    );
  }

  /** Called by the sweeper for each purchase whose deadline passed. */
  async sweep(purchaseId: string, dueAt: Date): Promise<void> {
    const p = await this.purchases.find(purchaseId);
    if (!p) {
      // The open marker is written just before the purchase; long without one, the insert never happened.
      if (Date.now() - dueAt.getTime() > ORPHAN_MARKER_MS) await this.purchases.close(purchaseId);
      return;
    }
    await runWithCorrelation({ correlationId: p.correlationId }, () => this.lanes.run(purchaseId, () => this.step(purchaseId, true)));
  }

  /**
   * `known`: the purchase as this lane last wrote or read it (saves a read). A stale one is harmless:
   * every change is a compare-and-set on the stage, and a lost one re-reads.
   */
  private async step(purchaseId: string, deadlinePassed = false, known?: Purchase): Promise<void> {
    const p = known ?? (await this.purchases.find(purchaseId));
    if (!p) return;
    const now = new Date();
    switch (p.stage) {
      case 'NEW':
        return this.debitAndReserve(p, deadlinePassed);
      case 'RESERVING':
        if (deadlinePassed) await this.reserveTimedOut(p, now);
        return;
      case 'VOIDING':
        if (deadlinePassed) await this.resendVoid(p, now);
        return;
      case 'REFUNDING':
        await this.ledger.change(p.userId, `refund:${p.purchaseId}`, p.amount);
        const cancelled = await this.move(p, { stage: 'CANCELLED', status: 'CANCELLED', reason: p.reason });
        if (cancelled) return this.step(purchaseId, false, cancelled);
        return;
      default:
        return this.finish(p);
    }
  }

  private async debitAndReserve(p: Purchase, deadlinePassed: boolean): Promise<void> {
    if (p.unitPrice === null) {
      const rejected = await this.move(p, { stage: 'REJECTED', status: 'REJECTED', reason: `unknown sku: "${p.sku}" is not in the catalog` });
      return this.step(p.purchaseId, false, rejected);
    }
    const debit = await this.ledger.change(p.userId, `debit:${p.purchaseId}`, -p.amount);
    if (debit.kind === 'insufficient') {
      const reason = `insufficient balance: the purchase costs ${p.amount} cents and the balance is ${debit.balance} cents`;
      const rejected = await this.move(p, { stage: 'REJECTED', status: 'REJECTED', reason });
      if (rejected) return this.step(p.purchaseId, false, rejected);
      return;
    }
    if (!(await this.move(p, { stage: 'RESERVING', status: 'PENDING', attempts: 1 }))) {
      // Someone else moved it on first; if that was a rejection, our debit must go back.
      const now = await this.purchases.find(p.purchaseId);
      if (now?.stage === 'REJECTED') await this.ledger.change(p.userId, `refund:${p.purchaseId}`, p.amount);
      return;
    }
    // The open marker's deadline, set at insert, stands for this first wait unless the sweeper is here because it passed.
    if (deadlinePassed) await this.purchases.setDue(p.purchaseId, new Date(Date.now() + this.env.PURCHASE_RETRY_AFTER_MS));
    await this.sendReserve(p, 1);
  }

  private async reserveTimedOut(p: Purchase, now: Date): Promise<void> {
    if (now.getTime() - p.stageSince.getTime() >= this.env.PURCHASE_VOID_AFTER_MS) {
      if (!(await this.move(p, { stage: 'VOIDING', status: 'PENDING', attempts: 1 }))) return;
      this.logger.warn({ msg: 'no answer from shop in time: voiding the reservation', purchaseId: p.purchaseId });
      await this.purchases.setDue(p.purchaseId, new Date(now.getTime() + this.env.PURCHASE_RETRY_AFTER_MS));
      return this.sendVoid(p);
    }
    const attempts = p.attempts + 1;
    if (!(await this.purchases.countAttempt(p.purchaseId, 'RESERVING', attempts, now))) return;
    const untilVoid = p.stageSince.getTime() + this.env.PURCHASE_VOID_AFTER_MS - now.getTime();
    const backoff = Math.min(this.env.PURCHASE_RETRY_AFTER_MS * 2 ** (attempts - 1), Math.max(untilVoid, 0));
    await this.purchases.setDue(p.purchaseId, new Date(now.getTime() + backoff));
    sagaResends.inc({ command: 'ReserveStock' });
    await this.sendReserve(p, attempts);
  }

  private async resendVoid(p: Purchase, now: Date): Promise<void> {
    const attempts = p.attempts + 1;
    if (!(await this.purchases.countAttempt(p.purchaseId, 'VOIDING', attempts, now))) return;
    const backoff = Math.min(this.env.PURCHASE_RETRY_AFTER_MS * 2 ** (attempts - 1), MAX_BACKOFF_MS);
    await this.purchases.setDue(p.purchaseId, new Date(now.getTime() + backoff));
    sagaResends.inc({ command: 'VoidReservation' });
    await this.sendVoid(p);
  }

  /** A terminal purchase: request its mail (idempotent by message id), then forget it. */
  private async finish(p: Purchase): Promise<void> {
    if (p.stage === 'COMPLETED' || p.stage === 'CANCELLED') {
      const user = await this.users.findUser(p.userId);
      if (user) {
        const data = { name: user.name, purchaseId: p.purchaseId, sku: p.sku, quantity: p.quantity, amount: p.amount };
        if (p.stage === 'COMPLETED') await this.mail.send(`purchase-completed:${p.purchaseId}`, user.email, 'purchase-completed', data);
        else await this.mail.send(`purchase-cancelled:${p.purchaseId}`, user.email, 'purchase-cancelled', { ...data, reason: p.reason ?? 'cancelled' });
      }
    }
    await this.purchases.close(p.purchaseId);
  }

  /** The purchase as it now stands when the move was applied; undefined when another step moved it first. */
  private async move(p: Purchase, change: StageChange): Promise<Purchase | undefined> {
    const now = new Date();
    if (!(await this.purchases.transition(p.purchaseId, p.stage, change, now))) return undefined;
    const moved: Purchase = {
      ...p,
      stage: change.stage,
      status: change.status,
      reason: change.reason ?? null,
      attempts: change.attempts ?? 0,
      stageSince: now,
      updatedAt: now,
    };
    if ((TERMINAL_STAGES as PurchaseStage[]).includes(change.stage)) {
      purchasesFinished.inc({ status: change.status });
      purchaseDuration.observe({ status: change.status }, (now.getTime() - p.createdAt.getTime()) / 1000);
      this.logger.log({ msg: `purchase ${change.status}`, purchaseId: p.purchaseId, reason: change.reason ?? undefined });
      for (const wake of this.watchers.get(p.purchaseId) ?? []) wake(moved);
    }
    return moved;
  }

  private async sendReserve(p: Purchase, attempt: number): Promise<void> {
    const message: ReserveStock = { purchaseId: p.purchaseId, sku: p.sku, quantity: p.quantity, requestedAt: new Date().toISOString() };
    const messageId = `reserve-stock:${p.purchaseId}:${attempt}`;
    await this.rabbit.dispatch(MessageContracts.ReserveStock, new RabbitRecord(message, { messageId, correlationId: p.correlationId }));
  }

  private async sendVoid(p: Purchase): Promise<void> {
    const message: VoidReservation = { purchaseId: p.purchaseId, sku: p.sku, quantity: p.quantity };
    const messageId = `void-reservation:${p.purchaseId}:${Date.now()}`;
    await this.rabbit.dispatch(MessageContracts.VoidReservation, new RabbitRecord(message, { messageId, correlationId: p.correlationId }));
  }

  private voidedReason(): string {
    return `the shop did not confirm the reservation within ${Math.round(this.env.PURCHASE_VOID_AFTER_MS / 1000)} s; the purchase was cancelled and refunded`;
  }
}
