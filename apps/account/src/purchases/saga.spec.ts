import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { MessageContracts, PurchaseStatusChanged } from '@app/contracts';
import { RabbitRecord } from '@app/messaging';
import { AccountEnv } from '../config/account.env';
import { LedgerService } from '../ledger/ledger.service';
import { MailPublisher } from '../mail/mail.publisher';
import { UsersService } from '../users/users.service';
import { OpenPurchaseAges } from './open-purchase-ages';
import { PurchaseOutcomesRepository } from './purchase-outcomes.repository';
import { Purchase, PurchaseRepository, PurchaseStage, StageChange } from './purchase.repository';
import { PurchaseSagaService } from './purchase-saga.service';
import { PurchaseWatchers } from './purchase-watchers';
import { decide, isTerminal, MAX_BACKOFF_MS, SAGA_TABLE, SagaEvent, SagaEventType, SagaSettings, TERMINAL, voidedReason } from './saga';

const settings: SagaSettings = { retryAfterMs: 3_000, voidAfterMs: 30_000 };
const t0 = new Date('2026-01-01T00:00:00Z');
const after = (ms: number) => new Date(t0.getTime() + ms);

function purchase(stage: PurchaseStage, overrides: Partial<Purchase> = {}): Purchase {
  return {
    purchaseId: 'p1',
    userId: 'u1',
    sku: 'S',
    quantity: 2,
    unitPrice: 5,
    amount: 10,
    status: isTerminal(stage) ? (stage as Purchase['status']) : 'PENDING',
    stage,
    reason: null,
    attempts: 1,
    stageSince: t0,
    correlationId: 'c1',
    createdAt: t0,
    updatedAt: t0,
    ...overrides,
    lines: overrides.lines ?? [
      { sku: overrides.sku ?? 'S', quantity: overrides.quantity ?? 2, unitPrice: overrides.unitPrice === undefined ? 5 : overrides.unitPrice },
    ],
  };
}

const STAGES = Object.keys(SAGA_TABLE) as PurchaseStage[];
const INPUTS: SagaEvent[] = [
  { type: 'step' },
  { type: 'deadline-passed' },
  { type: 'stock-reserved' },
  { type: 'stock-reservation-failed', code: 'OUT_OF_STOCK', reason: 'Not enough "S" left.' },
  { type: 'stock-reservation-failed', code: 'VOIDED', reason: 'abandoned' },
  { type: 'reservation-voided' },
];
const OUTCOMES: SagaEvent[] = [
  { type: 'debited', late: false },
  { type: 'insufficient-balance', balance: 3 },
  { type: 'refunded' },
  { type: 'debit-unclaimed' },
];

describe(decide.name, () => {
  it('has a rule for every stage and every event', () => {
    const types = [...INPUTS, ...OUTCOMES].map((e) => e.type);
    for (const stage of STAGES) expect(Object.keys(SAGA_TABLE[stage]).sort()).toEqual([...new Set<SagaEventType>(types)].sort());
    expect([...STAGES].sort()).toEqual(['CANCELLED', 'COMPLETED', 'NEW', 'REFUNDING', 'REJECTED', 'RESERVING', 'VOIDING']);
  });

  describe('NEW', () => {
    it.each(INPUTS.filter((e) => e.type !== 'deadline-passed'))('debits first on %o (its outcome decides the move)', (event) => {
      expect(decide(purchase('NEW', { attempts: 0 }), event, t0, settings)).toEqual({
        commands: [{ type: 'debit', entryId: 'debit:p1', amount: -10, late: false }],
      });
    });

    it('debits on a passed deadline too, noting that the sweeper got here', () => {
      expect(decide(purchase('NEW'), { type: 'deadline-passed' }, t0, settings).commands).toEqual([
        { type: 'debit', entryId: 'debit:p1', amount: -10, late: true },
      ]);
    });

    it('rejects an unknown sku without touching the ledger, and carries on if someone else moved it first', () => {
      expect(decide(purchase('NEW', { unitPrice: null, amount: 0 }), { type: 'step' }, t0, settings)).toEqual({
        change: { kind: 'move', stage: 'REJECTED', status: 'REJECTED', reason: 'unknown sku: "S" is not in the catalog', attempts: 0 },
        commands: [],
        onLost: { type: 'step' },
      });
    });

    it('debits a cart purchase once for all its lines, and rejects one with a line of an unknown sku, naming it', () => {
      const lines = [
        { sku: 'A', quantity: 2, unitPrice: 300 },
        { sku: 'B', quantity: 1, unitPrice: 50 },
      ];
      expect(decide(purchase('NEW', { lines, unitPrice: null, quantity: 3, amount: 650 }), { type: 'step' }, t0, settings).commands).toEqual([
        { type: 'debit', entryId: 'debit:p1', amount: -650, late: false },
      ]);
      const unknown = [lines[0], { sku: 'GONE', quantity: 1, unitPrice: null }];
      expect(decide(purchase('NEW', { lines: unknown, unitPrice: null, amount: 600 }), { type: 'step' }, t0, settings).change).toMatchObject({
        stage: 'REJECTED',
        reason: 'unknown sku: "GONE" is not in the catalog',
      });
    });

    it('once debited, moves to RESERVING and sends ReserveStock attempt 1, keeping the open marker set at insert', () => {
      expect(decide(purchase('NEW'), { type: 'debited', late: false }, after(100), settings)).toEqual({
        change: { kind: 'move', stage: 'RESERVING', status: 'PENDING', reason: null, attempts: 1 },
        commands: [{ type: 'send-reserve', attempt: 1, messageId: 'reserve-stock:p1:1', resend: false }],
        onLost: { type: 'debit-unclaimed' },
      });
    });

    it('once debited by the sweeper, sets the next deadline before sending', () => {
      expect(decide(purchase('NEW'), { type: 'debited', late: true }, after(100), settings).commands).toEqual([
        { type: 'set-due', at: after(3_100) },
        { type: 'send-reserve', attempt: 1, messageId: 'reserve-stock:p1:1', resend: false },
      ]);
    });

    it('rejects when the balance is short, saying by how much, and leaves a lost race to the winner', () => {
      expect(decide(purchase('NEW'), { type: 'insufficient-balance', balance: 3 }, t0, settings)).toEqual({
        change: {
          kind: 'move',
          stage: 'REJECTED',
          status: 'REJECTED',
          reason: 'insufficient balance: the purchase costs 10 cents and the balance is 3 cents',
          attempts: 0,
        },
        commands: [],
      });
    });
  });

  describe('RESERVING', () => {
    it('waits on a plain step', () => {
      expect(decide(purchase('RESERVING'), { type: 'step' }, t0, settings)).toEqual({ commands: [] });
    });

    it('completes on StockReserved', () => {
      expect(decide(purchase('RESERVING'), { type: 'stock-reserved' }, t0, settings)).toEqual({
        change: { kind: 'move', stage: 'COMPLETED', status: 'COMPLETED', reason: null, attempts: 0 },
        commands: [],
        onLost: { type: 'step' },
      });
    });

    it("refunds on StockReservationFailed with shop's reason, or the void reason when shop had voided it", () => {
      const failed = decide(purchase('RESERVING'), INPUTS[3], t0, settings);
      expect(failed).toEqual({
        change: { kind: 'move', stage: 'REFUNDING', status: 'PENDING', reason: 'Not enough "S" left.', attempts: 0 },
        commands: [],
        onLost: { type: 'step' },
      });
      expect(decide(purchase('RESERVING'), INPUTS[4], t0, settings).change).toMatchObject({ stage: 'REFUNDING', reason: voidedReason(settings) });
    });

    it('refunds on ReservationVoided', () => {
      expect(decide(purchase('RESERVING'), { type: 'reservation-voided' }, t0, settings)).toEqual({
        change: { kind: 'move', stage: 'REFUNDING', status: 'PENDING', reason: voidedReason(settings), attempts: 0 },
        commands: [],
        onLost: { type: 'step' },
      });
      expect(voidedReason(settings)).toBe('the shop did not confirm the reservation within 30 s; the purchase was cancelled and refunded');
    });

    it('resends ReserveStock on a passed deadline, backing off 2^(n-1) times PURCHASE_RETRY_AFTER_MS', () => {
      expect(decide(purchase('RESERVING', { attempts: 1 }), { type: 'deadline-passed' }, after(3_000), settings)).toEqual({
        change: { kind: 'retry', attempts: 2 },
        commands: [
          { type: 'set-due', at: after(3_000 + 6_000) },
          { type: 'send-reserve', attempt: 2, messageId: 'reserve-stock:p1:2', resend: true },
        ],
      });
      expect(decide(purchase('RESERVING', { attempts: 2 }), { type: 'deadline-passed' }, after(9_000), settings).commands[0]).toEqual({
        type: 'set-due',
        at: after(21_000),
      });
    });

    it('never backs off past the void deadline', () => {
      expect(decide(purchase('RESERVING', { attempts: 3 }), { type: 'deadline-passed' }, after(21_000), settings).commands[0]).toEqual({
        type: 'set-due',
        at: after(30_000),
      });
      expect(decide(purchase('RESERVING', { attempts: 1 }), { type: 'deadline-passed' }, after(29_999), settings).commands[0]).toEqual({
        type: 'set-due',
        at: after(30_000),
      });
    });

    it('voids once PURCHASE_VOID_AFTER_MS has passed in RESERVING', () => {
      expect(decide(purchase('RESERVING', { attempts: 4 }), { type: 'deadline-passed' }, after(30_000), settings)).toEqual({
        change: { kind: 'move', stage: 'VOIDING', status: 'PENDING', reason: null, attempts: 1 },
        commands: [
          { type: 'log', level: 'warn', msg: 'no answer from shop in time: voiding the reservation' },
          { type: 'set-due', at: after(33_000) },
          { type: 'send-void', messageId: `void-reservation:p1:${after(30_000).getTime()}`, resend: false },
        ],
      });
    });

    it.each(OUTCOMES)('does nothing on %o (not an outcome of this stage)', (event) => {
      expect(decide(purchase('RESERVING'), event, t0, settings)).toEqual({ commands: [] });
    });
  });

  describe('VOIDING', () => {
    it('waits on a plain step', () => {
      expect(decide(purchase('VOIDING'), { type: 'step' }, t0, settings)).toEqual({ commands: [] });
    });

    it('ignores a late StockReserved, saying so', () => {
      expect(decide(purchase('VOIDING'), { type: 'stock-reserved' }, t0, settings)).toEqual({
        commands: [{ type: 'log', level: 'log', msg: 'late StockReserved ignored: the purchase is being voided' }],
      });
    });

    it.each([INPUTS[3], INPUTS[4], INPUTS[5]])('refunds on %o', (event) => {
      expect(decide(purchase('VOIDING'), event, t0, settings)).toMatchObject({
        change: { kind: 'move', stage: 'REFUNDING', status: 'PENDING' },
        onLost: { type: 'step' },
      });
    });

    it('resends VoidReservation on a passed deadline, backing off up to MAX_BACKOFF_MS', () => {
      expect(decide(purchase('VOIDING', { attempts: 1 }), { type: 'deadline-passed' }, after(40_000), settings)).toEqual({
        change: { kind: 'retry', attempts: 2 },
        commands: [
          { type: 'set-due', at: after(46_000) },
          { type: 'send-void', messageId: `void-reservation:p1:${after(40_000).getTime()}`, resend: true },
        ],
      });
      expect(decide(purchase('VOIDING', { attempts: 9 }), { type: 'deadline-passed' }, after(40_000), settings).commands[0]).toEqual({
        type: 'set-due',
        at: after(40_000 + MAX_BACKOFF_MS),
      });
    });
  });

  describe('REFUNDING', () => {
    it.each(INPUTS)('refunds first on %o (once per purchase in the ledger)', (event) => {
      expect(decide(purchase('REFUNDING', { reason: 'why' }), event, t0, settings)).toEqual({
        commands: [{ type: 'refund', entryId: 'refund:p1', amount: 10 }],
      });
    });

    it('cancels once refunded, keeping the reason', () => {
      expect(decide(purchase('REFUNDING', { reason: 'why' }), { type: 'refunded' }, t0, settings)).toEqual({
        change: { kind: 'move', stage: 'CANCELLED', status: 'CANCELLED', reason: 'why', attempts: 0 },
        commands: [],
      });
    });
  });

  describe('terminal stages', () => {
    it.each(INPUTS)('COMPLETED mails the buyer and closes the marker on %o', (event) => {
      expect(decide(purchase('COMPLETED'), event, t0, settings)).toEqual({
        commands: [{ type: 'mail', messageId: 'purchase-completed:p1', template: 'purchase-completed' }, { type: 'close' }],
      });
    });

    it('CANCELLED mails the buyer with the reason and closes the marker', () => {
      expect(decide(purchase('CANCELLED', { reason: 'why' }), { type: 'step' }, t0, settings)).toEqual({
        commands: [{ type: 'mail', messageId: 'purchase-cancelled:p1', template: 'purchase-cancelled', reason: 'why' }, { type: 'close' }],
      });
      expect(decide(purchase('CANCELLED'), { type: 'step' }, t0, settings).commands[0]).toMatchObject({ reason: 'cancelled' });
    });

    it('REJECTED only closes the marker', () => {
      expect(decide(purchase('REJECTED'), { type: 'deadline-passed' }, t0, settings)).toEqual({ commands: [{ type: 'close' }] });
    });

    it('REJECTED gives back a debit that lost the race to the rejection; no other stage does', () => {
      expect(decide(purchase('REJECTED'), { type: 'debit-unclaimed' }, t0, settings)).toEqual({
        commands: [{ type: 'refund', entryId: 'refund:p1', amount: 10 }],
      });
      for (const stage of STAGES.filter((s) => s !== 'REJECTED'))
        expect(decide(purchase(stage), { type: 'debit-unclaimed' }, t0, settings)).toEqual({ commands: [] });
    });

    it('never moves a terminal purchase, and commands nothing but mail and close (and that one refund)', () => {
      fc.assert(
        fc.property(fc.constantFrom(...TERMINAL), fc.constantFrom(...INPUTS, ...OUTCOMES), fc.integer({ min: 0, max: 10 }), (stage, event, attempts) => {
          const decision = decide(purchase(stage, { attempts }), event, t0, settings);
          expect(decision.change).toBeUndefined();
          const allowed = stage === 'REJECTED' && event.type === 'debit-unclaimed' ? ['refund'] : ['mail', 'close'];
          for (const command of decision.commands) expect(allowed).toContain(command.type);
        }),
      );
    });
  });
});

// ── the saga service over an in-memory store, driven by random schedules ────────────────────────

class Crash extends Error {}

type Answer = Extract<SagaEvent, { type: 'stock-reserved' | 'stock-reservation-failed' | 'reservation-voided' }>;
type ToShop = { kind: 'reserve' | 'void'; messageId: string };

/** One purchase's world: the purchases table and open marker (a map with the compare-and-set), the ledger, both queues and shop. */
class World {
  row: Purchase;
  due?: number;
  readonly initialBalance: number;
  balance: number;
  credits = 0;
  readonly entries = new Map<string, number>();
  readonly applied = new Map<string, number>();
  toShop: ToShop[] = [];
  toAccount: Answer[] = [];
  readonly answered: Answer[] = [];
  readonly sent: string[] = [];
  /** Statuses broadcast to the api, in order. */
  readonly announced: string[] = [];
  /** Terminal statuses counted for the operators. */
  readonly outcomes: string[] = [];
  shopRow?: 'RESERVED' | 'FAILED' | 'VOIDED';
  readonly mails: string[] = [];
  readonly completions: { from: PurchaseStage; during: string }[] = [];
  readonly violations: string[] = [];
  readonly snapshots: Purchase[] = [];
  /** Effects left before this step crashes (a command list cut short); Infinity: no crash. */
  fuel = Infinity;
  /** The step running now started from a stale read (another instance that read before the last writes). */
  stale = false;
  during = '';

  constructor(
    p: Purchase,
    balance: number,
    readonly stockAvailable: boolean,
  ) {
    this.row = p;
    this.due = p.createdAt.getTime() + Math.min(5_000, settings.retryAfterMs);
    this.initialBalance = this.balance = balance;
  }

  private effect(kind: string): void {
    if (this.fuel <= 0) throw new Crash(`crashed before ${kind}`);
    this.fuel--;
    if (!this.stale && isTerminal(this.row.stage) && kind !== 'mail' && kind !== 'close')
      this.violations.push(`${kind} while ${this.row.stage}, during ${this.during}`);
  }

  readonly store = {
    find: async (id: string) => (id === this.row.purchaseId ? { ...this.row } : undefined),
    transition: async (id: string, from: PurchaseStage, change: StageChange, now: Date) => {
      this.effect('transition');
      if (this.row.stage !== from) return false;
      if (change.stage === 'COMPLETED') this.completions.push({ from, during: this.during });
      this.row = {
        ...this.row,
        stage: change.stage,
        status: change.status,
        reason: change.reason ?? null,
        attempts: change.attempts ?? 0,
        stageSince: now,
        updatedAt: now,
      };
      return true;
    },
    countAttempt: async (id: string, stage: PurchaseStage, attempts: number, now: Date) => {
      this.effect('countAttempt');
      if (this.row.stage !== stage) return false;
      this.row = { ...this.row, attempts, updatedAt: now };
      return true;
    },
    setDue: async (id: string, dueAt: Date) => {
      this.effect('setDue');
      this.due = dueAt.getTime();
    },
    close: async () => {
      this.effect('close');
      this.due = undefined;
    },
  };

  readonly ledger = {
    change: async (userId: string, entryId: string, amount: number) => {
      this.effect(entryId.split(':')[0]);
      // As LedgerService: the first answer for an entry id is its answer for good (a refusal is an entry of 0).
      const recorded = this.entries.get(entryId);
      if (recorded !== undefined)
        return recorded === 0 && amount < 0 ? { kind: 'insufficient', balance: this.balance } : { kind: 'already-applied', balance: this.balance };
      if (this.balance + amount < 0) {
        this.entries.set(entryId, 0);
        return { kind: 'insufficient', balance: this.balance };
      }
      this.entries.set(entryId, amount);
      this.applied.set(entryId, (this.applied.get(entryId) ?? 0) + 1);
      this.balance += amount;
      return { kind: 'applied', balance: this.balance };
    },
  };

  readonly rabbit = {
    dispatch: async (contract: unknown, record: RabbitRecord<{ purchaseId: string }>) => {
      // A notice to the api, not a step of the saga: sent after the write, never awaited by it.
      if (contract === MessageContracts.PurchaseStatusChanged) {
        this.announced.push((record.data as unknown as PurchaseStatusChanged).purchase.status);
        return;
      }
      const kind = contract === MessageContracts.ReserveStock ? 'reserve' : contract === MessageContracts.VoidReservation ? 'void' : undefined;
      this.effect(`send ${kind}`);
      if (!kind) throw new Error('unexpected contract');
      this.toShop.push({ kind, messageId: record.options.messageId! });
      this.sent.push(record.options.messageId!);
    },
  };

  readonly mail = {
    send: async (messageId: string) => {
      this.effect('mail');
      this.mails.push(messageId);
    },
  };

  /** Shop as it behaves: decides a purchase once, answers a repeat the same way, answers a void whatever its state. */
  shop(message: ToShop): void {
    if (message.kind === 'reserve') {
      this.shopRow ??= this.stockAvailable ? 'RESERVED' : 'FAILED';
      const answer: Answer =
        this.shopRow === 'RESERVED'
          ? { type: 'stock-reserved' }
          : this.shopRow === 'FAILED'
            ? { type: 'stock-reservation-failed', code: 'OUT_OF_STOCK', reason: 'Not enough "S" left.' }
            : { type: 'stock-reservation-failed', code: 'VOIDED', reason: 'The purchase was abandoned before the item could be reserved.' };
      this.toAccount.push(answer);
      this.answered.push(answer);
    } else {
      if (this.shopRow === undefined || this.shopRow === 'RESERVED') this.shopRow = 'VOIDED';
      this.toAccount.push({ type: 'reservation-voided' });
      this.answered.push({ type: 'reservation-voided' });
    }
  }
}

type Action =
  | { t: 'drive' }
  | { t: 'tick'; ms: number }
  | { t: 'sweep' }
  | { t: 'deadline' }
  | { t: 'shop'; pick: number; keep: boolean }
  | { t: 'deliver'; pick: number; keep: boolean }
  | { t: 'redeliver'; pick: number }
  | { t: 'credit'; amount: number }
  | { t: 'stale'; back: number; pick: number; crashAfter: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.constant<Action>({ t: 'drive' }),
  fc.integer({ min: 0, max: 40_000 }).map<Action>((ms) => ({ t: 'tick', ms })),
  fc.constant<Action>({ t: 'sweep' }),
  fc.constant<Action>({ t: 'deadline' }),
  fc.record({ pick: fc.nat(), keep: fc.boolean() }).map<Action>((a) => ({ t: 'shop', ...a })),
  fc.record({ pick: fc.nat(), keep: fc.boolean() }).map<Action>((a) => ({ t: 'deliver', ...a })),
  fc.nat().map<Action>((pick) => ({ t: 'redeliver', pick })),
  fc.integer({ min: 1, max: 100 }).map<Action>((amount) => ({ t: 'credit', amount })),
  // back: how many writes ago it read; -1: at the very start (NEW), the read that races a rejection.
  fc
    .record({ back: fc.oneof(fc.nat(), fc.constant(-1)), pick: fc.nat(), crashAfter: fc.oneof(fc.constant(Infinity), fc.nat(5)) })
    .map<Action>((a) => ({ t: 'stale', ...a })),
);

/** An action, and whether the step it runs crashes after so many effects. */
const scheduled = fc.record({ action, crashAfter: fc.option(fc.integer({ min: 0, max: 5 }), { freq: 3 }) });

function saga(world: World): PurchaseSagaService {
  const env = Object.assign(new AccountEnv(), { PURCHASE_RETRY_AFTER_MS: settings.retryAfterMs, PURCHASE_VOID_AFTER_MS: settings.voidAfterMs });
  const users = { findUser: async (id: string) => ({ userId: id, name: 'Ann', email: 'ann@example.test' }) };
  return new PurchaseSagaService(
    world.store as unknown as PurchaseRepository,
    world.ledger as unknown as LedgerService,
    users as unknown as UsersService,
    world.mail as unknown as MailPublisher,
    world.rabbit as never,
    new PurchaseWatchers(),
    new OpenPurchaseAges(),
    { add: async (status: string) => void world.outcomes.push(status) } as unknown as PurchaseOutcomesRepository,
    env,
  );
}

/** Runs a step; a crash loses what it had not done yet, and an answer it was handling stays queued (redelivered). */
async function survive(step: Promise<unknown>): Promise<boolean> {
  try {
    await step;
    return true;
  } catch (error) {
    if (error instanceof Crash) return false;
    throw error;
  }
}

async function deliver(sut: PurchaseSagaService, answer: Answer): Promise<void> {
  const id = { purchaseId: 'p1', sku: 'S', quantity: 2 };
  if (answer.type === 'stock-reserved') return sut.onStockReserved(id);
  if (answer.type === 'reservation-voided') return sut.onReservationVoided({ purchaseId: 'p1' });
  return sut.onStockReservationFailed({ purchaseId: 'p1', code: answer.code, reason: answer.reason });
}

async function play(world: World, sut: PurchaseSagaService, { action: a, crashAfter }: { action: Action; crashAfter: number | null }): Promise<void> {
  world.during = a.t;
  world.fuel = crashAfter ?? Infinity;
  const now = Date.now();
  switch (a.t) {
    case 'drive':
      // drive() swallows a failure (the sweeper tries again), as after place().
      return sut.drive('p1');
    case 'tick':
      return void jest.setSystemTime(now + a.ms);
    case 'sweep':
      if (world.due !== undefined && world.due <= now) await survive(sut.sweep('p1', new Date(world.due)));
      return;
    case 'deadline':
      // A sweeper that read the marker a while ago, or on another instance with its clock ahead.
      if (world.due !== undefined) await survive(sut.sweep('p1', new Date(world.due)));
      return;
    case 'shop': {
      if (world.toShop.length === 0) return;
      const i = a.pick % world.toShop.length;
      const message = world.toShop[i];
      if (!a.keep) world.toShop.splice(i, 1);
      return world.shop(message);
    }
    case 'deliver': {
      if (world.toAccount.length === 0) return;
      const i = a.pick % world.toAccount.length;
      const answer = world.toAccount[i];
      world.during = answer.type;
      if ((await survive(deliver(sut, answer))) && !a.keep) world.toAccount.splice(i, 1);
      return;
    }
    case 'redeliver': {
      if (world.answered.length === 0) return;
      const answer = world.answered[a.pick % world.answered.length];
      world.during = answer.type;
      await survive(deliver(sut, answer));
      return;
    }
    case 'credit':
      world.balance += a.amount;
      world.credits += a.amount;
      return;
    case 'stale': {
      // Another instance that read the purchase some writes ago acts on it now, and may crash half-way.
      world.fuel = a.crashAfter;
      world.stale = true;
      const known = a.back < 0 ? world.snapshots[0] : world.snapshots[world.snapshots.length - 1 - (a.back % world.snapshots.length)];
      const events: SagaEvent[] = [{ type: 'step' }, { type: 'deadline-passed' }, ...world.answered];
      const event = events[a.pick % events.length];
      world.during = `stale from ${known.stage}: ${event.type}`;
      try {
        await survive(sut.advance('p1', event, { ...known }));
      } finally {
        world.stale = false;
        world.fuel = Infinity;
      }
      return;
    }
  }
}

/** Events stop coming: shop answers everything sent, account takes every answer, deadlines pass and the sweeper runs. */
async function settle(world: World, sut: PurchaseSagaService): Promise<void> {
  world.fuel = Infinity;
  for (let round = 0; round < 100; round++) {
    while (world.toShop.length) world.shop(world.toShop.shift()!);
    while (world.toAccount.length) {
      const answer = world.toAccount.shift()!;
      world.during = `settle ${answer.type}`;
      await deliver(sut, answer);
    }
    if (world.due === undefined) return;
    world.during = 'settle sweep';
    jest.setSystemTime(Math.max(Date.now(), world.due) + 1_000);
    await sut.sweep('p1', new Date(world.due));
  }
}

describe(`${PurchaseSagaService.name} over random schedules`, () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
    // Only the clock is faked; promises and timers run as usual.
    jest.useFakeTimers({
      doNotFake: [
        'nextTick',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
    });
  });
  afterAll(() => {
    jest.useRealTimers();
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
  });

  const start = fc.record({
    priced: fc.constantFrom(true, true, true, true, true, true, true, true, true, false),
    unitPrice: fc.integer({ min: 1, max: 50 }),
    quantity: fc.integer({ min: 1, max: 3 }),
    /** The balance, in tenths of the price: below 10 it is short. */
    balanceTenths: fc.integer({ min: 0, max: 25 }),
    stockAvailable: fc.boolean(),
  });

  it('ends every purchase in one terminal stage, conserving money and stock, whatever the order, repeats, deadlines and crashes', async () => {
    await fc.assert(
      fc.asyncProperty(start, fc.array(scheduled, { maxLength: 40 }), async (s, schedule) => {
        jest.setSystemTime(t0);
        const amount = s.priced ? s.unitPrice * s.quantity : 0;
        const p = purchase('NEW', { unitPrice: s.priced ? s.unitPrice : null, quantity: s.quantity, amount, attempts: 0 });
        const world = new World(p, Math.floor((amount * s.balanceTenths) / 10), s.stockAvailable);
        const sut = saga(world);
        world.snapshots.push({ ...world.row });
        for (const step of schedule) {
          await play(world, sut, step);
          world.snapshots.push({ ...world.row });
        }
        await settle(world, sut);

        const { row } = world;
        // Exactly one terminal stage, shown to the buyer as such, and nothing left for the sweeper.
        expect(TERMINAL).toContain(row.stage);
        expect(row.status).toBe(row.stage);
        expect(world.due).toBeUndefined();
        // Money: debited at most once, refunded at most once and only if debited, never completed and refunded;
        // in the end the buyer paid exactly when the purchase completed.
        for (const count of world.applied.values()) expect(count).toBe(1);
        const debited = world.entries.has('debit:p1');
        const refunded = world.entries.has('refund:p1');
        if (refunded) expect(debited).toBe(true);
        if (row.stage === 'COMPLETED') expect({ debited, refunded }).toEqual({ debited: true, refunded: false });
        expect(world.balance).toBe(world.initialBalance + world.credits - (row.stage === 'COMPLETED' ? amount : 0));
        if (!s.priced) expect({ stage: row.stage, debited }).toEqual({ stage: 'REJECTED', debited: false });
        // Completed only on StockReserved while RESERVING, and then shop holds the units; otherwise it holds none.
        if (row.stage === 'COMPLETED') {
          expect(world.completions).toEqual([{ from: 'RESERVING', during: expect.stringMatching(/stock-reserved$/) }]);
          expect(world.shopRow).toBe('RESERVED');
        } else {
          expect(world.completions).toEqual([]);
          expect(world.shopRow).not.toBe('RESERVED');
        }
        // Nothing after a terminal stage but mail and closing the marker.
        expect(world.violations).toEqual([]);
        // The api heard of the status change once, right after the write that made it (the only change the buyer sees).
        expect(world.announced).toEqual([row.status]);
        // Counted once for the operators, by the write that made it terminal, whatever ran twice or crashed.
        expect(world.outcomes).toEqual([row.status]);
        const mails = new Set(world.mails);
        if (row.stage === 'COMPLETED') expect([...mails]).toEqual(['purchase-completed:p1']);
        else if (row.stage === 'CANCELLED') expect([...mails]).toEqual(['purchase-cancelled:p1']);
        else expect(mails.size).toBe(0);
        for (const id of world.sent) expect(id).toMatch(/^(reserve-stock:p1:[1-9]\d*|void-reservation:p1:\d+)$/);
      }),
      { numRuns: 1_000 },
    );
  });

  // A debit asked from a stale NEW read after another step rejected the purchase for want of money
  // is refused (the ledger keeps the first answer for its id), so a crash after it takes nothing.
  it('takes no money for a purchase rejected meanwhile, even when a stale step debits after a top-up and crashes', async () => {
    jest.setSystemTime(t0);
    const world = new World(purchase('NEW', { attempts: 0 }), 5, true);
    const sut = saga(world);
    const stale = { ...world.row };
    await sut.drive('p1'); // balance 5 < 10: rejected and closed
    expect(world.row.stage).toBe('REJECTED');
    world.balance += 20; // a top-up lands
    world.fuel = 1; // the other instance debits, then dies
    await survive(sut.advance('p1', { type: 'step' }, stale));
    world.fuel = Infinity;
    await settle(world, sut);
    expect(world.balance).toBe(25);
  });
});
