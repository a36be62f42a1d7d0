import { Injectable, Logger } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import {
  MessageContracts,
  PurchaseStatusChanged,
  ReservationVoided,
  ReserveStock,
  StockReservationFailed,
  StockReserved,
  VoidReservation,
} from '@app/contracts';
import { KeyedLanes, RabbitClient, RabbitRecord } from '@app/messaging';
import { metricsRegistry, runWithCorrelation } from '@app/observability';
import { AccountEnv } from '../config/account.env';
import { LedgerService } from '../ledger/ledger.service';
import { MailPublisher } from '../mail/mail.publisher';
import { UsersService } from '../users/users.service';
import { OpenPurchaseAges } from './open-purchase-ages';
import { PurchaseOutcomesRepository, TerminalStatus } from './purchase-outcomes.repository';
import { lineViews, purchaseView } from './purchase.mapper';
import { Purchase, PurchaseRepository } from './purchase.repository';
import { PurchaseWatchers } from './purchase-watchers';
import { decide, isOrphanMarker, isTerminal, SagaChange, SagaCommand, SagaEvent, SagaSettings } from './saga';

// Counted by the instance whose compare-and-set moved the purchase, so once per purchase across
// every instance and redelivery (a crash between the write and the count loses one count, never adds one).
const purchaseOutcomes = new Counter({
  name: 'purchase_outcomes_total',
  help: 'Purchases that reached a terminal status, by status (once per purchase, by the account instance that moved it there)',
  labelNames: ['status'] as const,
  registers: [metricsRegistry],
});
const purchaseDuration = new Histogram({
  name: 'purchase_duration_seconds',
  help: 'From creation (the api accepting it) to terminal status, by status; once per purchase like purchase_outcomes_total',
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

const STEP: SagaEvent = { type: 'step' };

export function sagaSettings(env: AccountEnv): SagaSettings {
  return { retryAfterMs: env.PURCHASE_RETRY_AFTER_MS, voidAfterMs: env.PURCHASE_VOID_AFTER_MS };
}

/**
 * Runs the account side of the purchase saga (the rules are in `saga.ts`): loads the purchase, asks
 * `decide`, writes the change with its compare-and-set on the stage, then runs the commands, and goes
 * on while the purchase can move. A step run twice (a redelivery, a second instance, the sweeper
 * racing a reply) changes nothing twice: a lost compare-and-set skips the commands, and the debit and
 * the refund are ledger entries keyed by the purchase, applied at most once each.
 */
/** What shop reserves or voids: the first line as `sku` and `quantity`, and with several, every line. */
function stockLines(p: Purchase): Pick<ReserveStock, 'sku' | 'quantity' | 'lines'> {
  const [first] = p.lines;
  return p.lines.length > 1
    ? { sku: first.sku, quantity: first.quantity, lines: p.lines.map((line) => ({ sku: line.sku, quantity: line.quantity })) }
    : { sku: first.sku, quantity: first.quantity };
}

@Injectable()
export class PurchaseSagaService {
  private readonly logger = new Logger(PurchaseSagaService.name);
  /** One step at a time per purchase in this process (other instances are kept out by the stage compare-and-set). */
  private readonly lanes = new KeyedLanes();

  constructor(
    private readonly purchases: PurchaseRepository,
    private readonly ledger: LedgerService,
    private readonly users: UsersService,
    private readonly mail: MailPublisher,
    private readonly rabbit: RabbitClient,
    private readonly watchers: PurchaseWatchers,
    private readonly ages: OpenPurchaseAges,
    private readonly outcomes: PurchaseOutcomesRepository,
    private readonly env: AccountEnv,
  ) {}

  onStockReserved(message: StockReserved): Promise<void> {
    return this.answer('StockReserved', message.purchaseId, { type: 'stock-reserved' });
  }

  onStockReservationFailed(message: StockReservationFailed): Promise<void> {
    return this.answer('StockReservationFailed', message.purchaseId, { type: 'stock-reservation-failed', code: message.code, reason: message.reason });
  }

  onReservationVoided(message: ReservationVoided): Promise<void> {
    return this.answer('ReservationVoided', message.purchaseId, { type: 'reservation-voided' });
  }

  private answer(name: string, purchaseId: string, event: SagaEvent): Promise<void> {
    return this.lanes.run(purchaseId, async () => {
      const p = await this.purchases.find(purchaseId);
      if (!p) return this.logger.warn({ msg: `${name} for an unknown purchase`, purchaseId });
      await this.apply(p, event);
    });
  }

  /** Advances one purchase as far as it can go now; safe to call at any time, any number of times. */
  drive(purchaseId: string, known?: Purchase): Promise<void> {
    return this.advance(purchaseId, STEP, known).catch((error: Error) =>
      this.logger.warn({ msg: 'purchase step failed; the sweeper will try again', purchaseId, err: error.message }),
    );
  }

  /** Called by the sweeper for each purchase whose deadline passed; returns the purchase as it was read. */
  async sweep(purchaseId: string, dueAt: Date): Promise<Purchase | undefined> {
    const p = await this.purchases.find(purchaseId);
    if (!p) {
      if (isOrphanMarker(dueAt, new Date())) await this.purchases.close(purchaseId);
      return undefined;
    }
    await runWithCorrelation({ correlationId: p.correlationId }, () => this.advance(purchaseId, { type: 'deadline-passed' }));
    return p;
  }

  /**
   * One event for one purchase, in its lane. `known`: the purchase as this process last wrote or read
   * it (saves a read). A stale one is harmless: every change is a compare-and-set on the stage.
   */
  advance(purchaseId: string, event: SagaEvent, known?: Purchase): Promise<void> {
    return this.lanes.run(purchaseId, async () => {
      const p = known ?? (await this.purchases.find(purchaseId));
      if (p) await this.apply(p, event);
    });
  }

  private async apply(start: Purchase, first: SagaEvent): Promise<void> {
    let p: Purchase | undefined = start;
    let event: SagaEvent | undefined = first;
    while (p && event) {
      const now = new Date();
      const { change, commands, onLost } = decide(p, event, now, sagaSettings(this.env));
      let current = p;
      if (change) {
        const moved = await this.write(p, change, now);
        if (!moved) {
          // Someone else moved it on first: go on from what it is now, or leave it to them.
          event = onLost;
          p = onLost && (await this.purchases.find(p.purchaseId));
          continue;
        }
        current = moved;
      }
      let outcome: SagaEvent | undefined;
      for (const command of commands) outcome = (await this.run(current, command)) ?? outcome;
      p = current;
      event = outcome ?? (change ? STEP : undefined);
    }
  }

  /** The purchase as it now stands when the change was applied; undefined when another step moved it first. */
  private async write(p: Purchase, change: SagaChange, now: Date): Promise<Purchase | undefined> {
    if (change.kind === 'retry') {
      if (!(await this.purchases.countAttempt(p.purchaseId, p.stage, change.attempts, now))) return undefined;
      return { ...p, attempts: change.attempts, updatedAt: now };
    }
    if (!(await this.purchases.transition(p.purchaseId, p.stage, change, now))) return undefined;
    const moved: Purchase = {
      ...p,
      stage: change.stage,
      status: change.status,
      reason: change.reason,
      attempts: change.attempts,
      stageSince: now,
      updatedAt: now,
    };
    if (change.status !== p.status) this.announce(moved);
    if (isTerminal(change.stage)) {
      purchaseOutcomes.inc({ status: change.status });
      this.countOutcome(change.status as TerminalStatus, p);
      purchaseDuration.observe({ status: change.status }, (now.getTime() - p.createdAt.getTime()) / 1000);
      this.logger.log({ msg: `purchase ${change.status}`, purchaseId: p.purchaseId, reason: change.reason ?? undefined });
      this.watchers.wake(moved);
      this.ages.finished(p.purchaseId);
    }
    return moved;
  }

  /**
   * The durable count behind the operators' page. Not awaited (the saga does not wait for a statistic)
   * and never retried: a lost increment undercounts by one, a retried one could count twice.
   */
  private countOutcome(status: TerminalStatus, p: Purchase): void {
    this.outcomes
      .add(status, { cart: p.lines.length > 1 })
      .catch((error: Error) => this.logger.warn({ msg: 'purchase outcome not counted', purchaseId: p.purchaseId, status, error: error.message }));
  }

  /**
   * Tells every api instance (their streams and long polls) that the status changed. Not awaited: the
   * saga does not wait for a notice, and a lost one is made up for by the api reading the purchase again.
   */
  private announce(p: Purchase): void {
    const event: PurchaseStatusChanged = { userId: p.userId, purchase: purchaseView(p) };
    this.rabbit
      .dispatch(
        MessageContracts.PurchaseStatusChanged,
        new RabbitRecord(event, { messageId: `purchase-status:${p.purchaseId}:${p.status}`, correlationId: p.correlationId }),
      )
      .catch((error: Error) =>
        this.logger.warn({ msg: 'PurchaseStatusChanged not broadcast; api instances read it again later', purchaseId: p.purchaseId, err: error.message }),
      );
  }

  /** Runs one command; the ledger's answer is the next event. */
  private async run(p: Purchase, command: SagaCommand): Promise<SagaEvent | undefined> {
    switch (command.type) {
      case 'debit': {
        const debit = await this.ledger.change(p.userId, command.entryId, command.amount);
        return debit.kind === 'insufficient' ? { type: 'insufficient-balance', balance: debit.balance } : { type: 'debited', late: command.late };
      }
      case 'refund':
        await this.ledger.change(p.userId, command.entryId, command.amount);
        return { type: 'refunded' };
      case 'send-reserve': {
        if (command.resend) sagaResends.inc({ command: 'ReserveStock' });
        const message: ReserveStock = { purchaseId: p.purchaseId, ...stockLines(p), requestedAt: new Date().toISOString() };
        await this.rabbit.dispatch(MessageContracts.ReserveStock, new RabbitRecord(message, { messageId: command.messageId, correlationId: p.correlationId }));
        return undefined;
      }
      case 'send-void': {
        if (command.resend) sagaResends.inc({ command: 'VoidReservation' });
        const message: VoidReservation = { purchaseId: p.purchaseId, ...stockLines(p) };
        await this.rabbit.dispatch(
          MessageContracts.VoidReservation,
          new RabbitRecord(message, { messageId: command.messageId, correlationId: p.correlationId }),
        );
        return undefined;
      }
      case 'set-due':
        await this.purchases.setDue(p.purchaseId, command.at);
        return undefined;
      case 'mail': {
        const user = await this.users.findUser(p.userId);
        if (!user) return undefined;
        const lines = lineViews(p).map(({ sku, quantity, amount }) => ({ sku, quantity, amount }));
        const data = { name: user.name, purchaseId: p.purchaseId, sku: p.sku, quantity: p.quantity, amount: p.amount, lines };
        await this.mail.send(command.messageId, user.email, command.template, command.reason === undefined ? data : { ...data, reason: command.reason });
        return undefined;
      }
      case 'close':
        await this.purchases.close(p.purchaseId);
        return undefined;
      case 'log':
        this.logger[command.level]({ msg: command.msg, purchaseId: p.purchaseId });
        return undefined;
    }
  }
}
