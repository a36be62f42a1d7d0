import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { ApplyPaymentEventRequest, DomainError, PaymentEventType, TopUpErrorCodes } from '@app/contracts';
import { BalanceState, LedgerRepository } from '../ledger/ledger.repository';
import { LedgerService } from '../ledger/ledger.service';
import { nextStep } from './top-up-transitions';
import { TopUpCountsRepository } from './top-up-counts.repository';
import { HandledPaymentEvent, TopUp, TopUpRepository } from './top-up.repository';
import { TopUpsService } from './top-ups.service';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** The ledger's compare-and-set semantics in memory (one account is enough here). */
class FakeLedger {
  state = new Map<string, BalanceState>();
  entries = new Map<string, number>();
  async open(user: string) {
    if (!this.state.has(user)) this.state.set(user, { balance: 0, version: 0 });
  }
  async balance(user: string) {
    await tick();
    const s = this.state.get(user);
    return s && { ...s };
  }
  async entryAmount(user: string, entryId: string) {
    await tick();
    return this.entries.get(`${user}/${entryId}`);
  }
  async apply(user: string, entryId: string, amount: number, seen: BalanceState) {
    await tick();
    if (this.state.get(user)?.version !== seen.version) return false;
    this.state.set(user, { balance: seen.balance + amount, version: seen.version + 1 });
    this.entries.set(`${user}/${entryId}`, amount);
    return true;
  }
  balanceOf(user: string) {
    return this.state.get(user)?.balance ?? 0;
  }
}

type Step = 'insertOnce' | 'transition' | 'recordHandled' | 'findByReference';

/** The repository's lightweight-transaction semantics in memory, with a hook that can make any write fail (a crash). */
class FakeTopUps {
  rows = new Map<string, TopUp>();
  byReference = new Map<string, string>();
  handled = new Map<string, HandledPaymentEvent>();
  failNext?: (step: Step) => boolean;

  private maybeFail(step: Step) {
    if (this.failNext?.(step)) throw new Error(`injected failure in ${step}`);
  }
  async insertOnce(topUp: TopUp) {
    await tick();
    this.maybeFail('insertOnce');
    this.byReference.set(topUp.paymentReference, topUp.topUpId);
    const existing = this.rows.get(topUp.topUpId);
    if (existing) {
      this.byReference.delete(topUp.paymentReference);
      return { created: false, topUp: { ...existing } };
    }
    this.rows.set(topUp.topUpId, { ...topUp });
    return { created: true, topUp };
  }
  async find(topUpId: string) {
    await tick();
    const row = this.rows.get(topUpId);
    return row && { ...row };
  }
  async findByReference(reference: string) {
    await tick();
    this.maybeFail('findByReference');
    const id = this.byReference.get(reference);
    const row = id === undefined ? undefined : this.rows.get(id);
    return row?.paymentReference === reference ? { ...row } : undefined;
  }
  async transition(topUpId: string, from: TopUp['status'], to: TopUp['status'], now: Date) {
    await tick();
    this.maybeFail('transition');
    const row = this.rows.get(topUpId);
    if (!row || row.status !== from) return false;
    this.rows.set(topUpId, { ...row, status: to, updatedAt: now });
    return true;
  }
  async handledEvent(eventId: string) {
    await tick();
    return this.handled.get(eventId);
  }
  async recordHandled(event: HandledPaymentEvent) {
    await tick();
    this.maybeFail('recordHandled');
    if (this.handled.has(event.eventId)) return false;
    this.handled.set(event.eventId, event);
    return true;
  }
}

/** Counters as Cassandra keeps them: increments and decrements of a row per status. */
class FakeCounts {
  readonly rows = new Map<string, number>();
  private add(status: string, by: number) {
    this.rows.set(status, (this.rows.get(status) ?? 0) + by);
  }
  async created() {
    this.add('CREATED', 1);
  }
  async moved(from: string, to: string) {
    if (from !== 'PENDING') this.add(from, -1);
    this.add(to, 1);
  }
  /** As TopUpCountsRepository.all derives them. */
  counts() {
    const SUCCEEDED = this.rows.get('SUCCEEDED') ?? 0;
    const FAILED = this.rows.get('FAILED') ?? 0;
    return { PENDING: (this.rows.get('CREATED') ?? 0) - SUCCEEDED - FAILED, SUCCEEDED, FAILED };
  }
}

/** One account instance over the shared fakes (several share them as instances share Cassandra). */
function instance(topUps: FakeTopUps, ledger: FakeLedger, counts = new FakeCounts()): TopUpsService {
  return new TopUpsService(
    topUps as unknown as TopUpRepository,
    new LedgerService(ledger as unknown as LedgerRepository),
    counts as unknown as TopUpCountsRepository,
  );
}

function setup() {
  const topUps = new FakeTopUps();
  const ledger = new FakeLedger();
  return { topUps, ledger, sut: instance(topUps, ledger) };
}

const event = (
  paymentReference: string,
  amount: number,
  type: PaymentEventType = 'payment.succeeded',
  eventId = `evt_${randomUUID()}`,
): ApplyPaymentEventRequest => ({
  eventId,
  type,
  paymentReference,
  amount,
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof DomainError ? error.code : `not a DomainError: ${(error as Error).message}`;
  }
}

describe(TopUpsService.name, () => {
  beforeAll(() => Logger.overrideLogger(false));
  it('creates a PENDING top-up once per id, with a payment reference; another user cannot see or claim it', async () => {
    const { sut } = setup();
    const id = randomUUID();
    const created = await sut.create('u1', id, 500);
    expect(created).toMatchObject({ topUpId: id, status: 'PENDING', amount: 500, paymentReference: expect.stringMatching(/^pay_[0-9a-f]{32}$/) });
    expect(await sut.create('u1', id, 500)).toEqual(created);
    expect(await sut.get('u1', id)).toEqual(created);
    expect(await codeOf(sut.get('u2', id))).toBe(TopUpErrorCodes.NotFound);
    expect(await codeOf(sut.create('u2', id, 500))).toBe(TopUpErrorCodes.NotFound);
    expect(await codeOf(sut.get('u1', randomUUID()))).toBe(TopUpErrorCodes.NotFound);
  });

  it('a succeeded payment credits once and marks it SUCCEEDED; the same event, or another for the same reference, changes nothing', async () => {
    const { sut, ledger } = setup();
    const topUp = await sut.create('u1', randomUUID(), 700);
    const paid = event(topUp.paymentReference, 700);
    expect(await sut.applyPaymentEvent(paid)).toEqual({ eventId: paid.eventId, topUpId: topUp.topUpId, status: 'SUCCEEDED', outcome: 'applied' });
    expect(ledger.balanceOf('u1')).toBe(700);
    expect(await sut.applyPaymentEvent(paid)).toMatchObject({ status: 'SUCCEEDED', outcome: 'duplicate' });
    expect(await sut.applyPaymentEvent(event(topUp.paymentReference, 700))).toMatchObject({ status: 'SUCCEEDED', outcome: 'applied' });
    expect(ledger.balanceOf('u1')).toBe(700);
    expect((await sut.get('u1', topUp.topUpId)).status).toBe('SUCCEEDED');
  });

  it('refuses an unknown reference and a wrong amount, changing nothing (the same event may come again, right)', async () => {
    const { sut, ledger, topUps } = setup();
    const topUp = await sut.create('u1', randomUUID(), 700);
    expect(await codeOf(sut.applyPaymentEvent(event('pay_nobody', 700)))).toBe(TopUpErrorCodes.UnknownPaymentReference);
    const wrong = event(topUp.paymentReference, 701);
    expect(await codeOf(sut.applyPaymentEvent(wrong))).toBe(TopUpErrorCodes.AmountMismatch);
    expect(await codeOf(sut.applyPaymentEvent(event(topUp.paymentReference, 700, 'payment.failed')))).toBeUndefined();
    expect(ledger.balanceOf('u1')).toBe(0);
    expect(topUps.handled.has(wrong.eventId)).toBe(false);
  });

  it('a failed payment marks a PENDING top-up FAILED; a SUCCEEDED one never becomes FAILED', async () => {
    const { sut, ledger } = setup();
    const a = await sut.create('u1', randomUUID(), 300);
    expect(await sut.applyPaymentEvent(event(a.paymentReference, 300, 'payment.failed'))).toMatchObject({ status: 'FAILED', outcome: 'applied' });
    expect(ledger.balanceOf('u1')).toBe(0);
    const b = await sut.create('u1', randomUUID(), 400);
    await sut.applyPaymentEvent(event(b.paymentReference, 400));
    expect(await sut.applyPaymentEvent(event(b.paymentReference, 400, 'payment.failed'))).toMatchObject({ status: 'SUCCEEDED' });
    expect(ledger.balanceOf('u1')).toBe(400);
  });

  it('a succeeded payment after a failed one still credits: the provider holds the money', async () => {
    const { sut, ledger } = setup();
    const topUp = await sut.create('u1', randomUUID(), 300);
    await sut.applyPaymentEvent(event(topUp.paymentReference, 300, 'payment.failed'));
    expect(await sut.applyPaymentEvent(event(topUp.paymentReference, 300))).toMatchObject({ status: 'SUCCEEDED' });
    expect(ledger.balanceOf('u1')).toBe(300);
  });

  it.each<Step>(['transition', 'recordHandled'])('a crash at %s (after the credit) is finished by the retry, never credited twice', async (step) => {
    const { sut, ledger, topUps } = setup();
    const topUp = await sut.create('u1', randomUUID(), 900);
    const paid = event(topUp.paymentReference, 900);
    let failures = 1;
    topUps.failNext = (at) => at === step && failures-- > 0;
    expect(await codeOf(sut.applyPaymentEvent(paid))).toBe(TopUpErrorCodes.Unavailable);
    expect(ledger.balanceOf('u1')).toBe(900);
    expect(await sut.applyPaymentEvent(paid)).toMatchObject({ status: 'SUCCEEDED', outcome: 'applied' });
    expect(ledger.balanceOf('u1')).toBe(900);
    expect(topUps.handled.has(paid.eventId)).toBe(true);
  });

  it('20 concurrent deliveries of one event, spread over two instances, credit once', async () => {
    const topUps = new FakeTopUps();
    const ledger = new FakeLedger();
    const instances = [instance(topUps, ledger), instance(topUps, ledger)];
    const topUp = await instances[0].create('u1', randomUUID(), 1_000);
    const paid = event(topUp.paymentReference, 1_000);
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => instances[i % 2].applyPaymentEvent(paid)));
    expect(outcomes.every((o) => o.status === 'SUCCEEDED')).toBe(true);
    expect(outcomes.filter((o) => o.outcome === 'applied')).toHaveLength(1);
    expect(ledger.balanceOf('u1')).toBe(1_000);
  });

  it('whatever the events, their order, duplicates, instances and crashes: credited once iff a payment succeeded, and the status says so', async () => {
    const delivery = fc.record({
      event: fc.integer({ min: 0, max: 3 }),
      via: fc.integer({ min: 0, max: 1 }),
      crashAt: fc.constantFrom<Step | 'none'>('none', 'none', 'transition', 'recordHandled', 'findByReference'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<PaymentEventType>('payment.succeeded', 'payment.failed'), { minLength: 4, maxLength: 4 }),
        fc.array(delivery, { minLength: 1, maxLength: 12 }),
        async (types, deliveries) => {
          const topUps = new FakeTopUps();
          const ledger = new FakeLedger();
          const counts = new FakeCounts();
          const instances = [instance(topUps, ledger, counts), instance(topUps, ledger, counts)];
          const topUp = await instances[0].create('u1', randomUUID(), 250);
          const events = types.map((type, i) => event(topUp.paymentReference, 250, type, `evt_${i}`));
          const pending = new Set(deliveries.map((d) => d.event));
          // Some writes fail once (a crash there); each delivery is retried by the provider until it gets an answer.
          const crashes = deliveries.map((d) => d.crashAt).filter((at) => at !== 'none');
          topUps.failNext = (at) => {
            const i = crashes.indexOf(at);
            if (i < 0) return false;
            crashes.splice(i, 1);
            return true;
          };
          await Promise.all(
            deliveries.map(async (d) => {
              for (let attempt = 0; attempt < 5; attempt++) {
                if ((await codeOf(instances[(d.via + attempt) % 2].applyPaymentEvent(events[d.event]))) === undefined) return;
              }
              throw new Error('a delivery never succeeded');
            }),
          );
          const succeeded = [...pending].some((i) => types[i] === 'payment.succeeded');
          const status = (await instances[0].get('u1', topUp.topUpId)).status;
          expect(ledger.balanceOf('u1')).toBe(succeeded ? 250 : 0);
          expect(status).toBe(succeeded ? 'SUCCEEDED' : 'FAILED');
          // The operators' counts follow the status: each move counted once, whichever instance made it.
          expect(counts.counts()).toEqual({ PENDING: 0, SUCCEEDED: succeeded ? 1 : 0, FAILED: succeeded ? 0 : 1 });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('the top-up transition table', () => {
  it('credits before SUCCEEDED, fails only what is PENDING, and leaves SUCCEEDED alone', () => {
    expect(nextStep('PENDING', 'payment.succeeded')).toEqual({ kind: 'credit-and-move', from: 'PENDING', to: 'SUCCEEDED' });
    expect(nextStep('FAILED', 'payment.succeeded')).toEqual({ kind: 'credit-and-move', from: 'FAILED', to: 'SUCCEEDED' });
    expect(nextStep('PENDING', 'payment.failed')).toEqual({ kind: 'move', from: 'PENDING', to: 'FAILED' });
    expect(nextStep('FAILED', 'payment.failed')).toEqual({ kind: 'none' });
    expect(nextStep('SUCCEEDED', 'payment.succeeded')).toEqual({ kind: 'none' });
    expect(nextStep('SUCCEEDED', 'payment.failed')).toEqual({ kind: 'none' });
  });
});
