import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { ApplyPaymentEventRequest, DomainError, PaymentEventOutcome, TopUpErrorCodes, TopUpView } from '@app/contracts';
import { KeyedLanes } from '@app/messaging';
import { LedgerService } from '../ledger/ledger.service';
import { nextStep } from './top-up-transitions';
import { topUpView as view } from './top-up.mapper';
import { TopUpCountsRepository } from './top-up-counts.repository';
import { TopUp, TopUpRepository } from './top-up.repository';

/** A status compare-and-set that lost to a concurrent event is decided again from what is stored, this many times at most. */
const MAX_STEPS = 10;

/** The ledger entry of a top-up: one per top-up, whatever events and deliveries say it succeeded. */
export const topUpEntryId = (topUpId: string) => `topup:${topUpId}`;

function notFound(topUpId: string): DomainError {
  return new DomainError(TopUpErrorCodes.NotFound, 'not_found', `There is no top-up ${topUpId} of yours.`);
}

function unknownReference(reference: string): DomainError {
  return new DomainError(
    TopUpErrorCodes.UnknownPaymentReference,
    'invalid',
    `No top-up has the payment reference ${JSON.stringify(reference)}; nothing was changed. ` +
      'Check that the event is meant for this merchant and environment: the reference must be one that POST /v1/me/top-ups returned.',
  );
}

function amountMismatch(event: ApplyPaymentEventRequest, topUp: TopUp): DomainError {
  return new DomainError(
    TopUpErrorCodes.AmountMismatch,
    'invalid',
    `The event's amount ${event.amount} differs from the ${topUp.amount} cents of the top-up with payment reference ` +
      `${JSON.stringify(event.paymentReference)}; nothing was credited. Send the event with the amount the top-up asked for ` +
      '(a different amount needs a top-up of its own).',
  );
}

/**
 * Top-ups: the intent a user pays at the provider, and the provider's events applied to it. A
 * succeeded payment credits the ledger under `topup:<topUpId>` (idempotent), then moves the
 * status with a compare-and-set; the event id is recorded last. Each step can be repeated, so a
 * crash anywhere is finished by the provider's retry, and concurrent deliveries credit once.
 */
@Injectable()
export class TopUpsService {
  private readonly logger = new Logger(TopUpsService.name);
  /** Events of one payment reference, one at a time in this instance (a burst of deliveries then costs one write). */
  private readonly lanes = new KeyedLanes();

  constructor(
    private readonly topUps: TopUpRepository,
    private readonly ledger: LedgerService,
    private readonly counts: TopUpCountsRepository,
  ) {}

  /** The operators' counts: not awaited (nobody waits for a statistic) and never retried (a retry could count twice). */
  private count(write: () => Promise<void>, topUpId: string): void {
    write().catch((error: Error) => this.logger.warn({ msg: 'top-up not counted', topUpId, err: error.message }));
  }

  /** Records a PENDING top-up once per id, with a fresh payment reference; a repeat returns the first. */
  async create(userId: string, topUpId: string, amount: number): Promise<TopUpView> {
    const now = new Date();
    const topUp: TopUp = { topUpId, userId, amount, status: 'PENDING', paymentReference: newPaymentReference(), createdAt: now, updatedAt: now };
    const { created, topUp: stored } = await this.topUps.insertOnce(topUp).catch(this.unavailable);
    if (created) this.count(() => this.counts.created(), topUpId);
    if (stored.userId !== userId) throw notFound(topUpId);
    return view(stored);
  }

  async get(userId: string, topUpId: string): Promise<TopUpView> {
    const topUp = await this.topUps.find(topUpId).catch(this.unavailable);
    if (!topUp || topUp.userId !== userId) throw notFound(topUpId);
    return view(topUp);
  }

  /**
   * Applies a verified provider event and answers once its effect is durable. An event id handled
   * before changes nothing. An unknown reference or a wrong amount is refused (the provider sees it).
   */
  applyPaymentEvent(event: ApplyPaymentEventRequest): Promise<PaymentEventOutcome> {
    return this.lanes.run(event.paymentReference, () => this.apply(event).catch(this.unavailable));
  }

  private async apply(event: ApplyPaymentEventRequest): Promise<PaymentEventOutcome> {
    const handled = await this.topUps.handledEvent(event.eventId);
    if (handled) return { eventId: event.eventId, topUpId: handled.topUpId, status: await this.statusOf(handled.topUpId), outcome: 'duplicate' };

    let topUp = await this.topUps.findByReference(event.paymentReference);
    if (!topUp) throw unknownReference(event.paymentReference);
    if (topUp.amount !== event.amount) throw amountMismatch(event, topUp);

    for (let step = 0; ; step++) {
      const next = nextStep(topUp.status, event.type);
      if (next.kind === 'none') break;
      if (step >= MAX_STEPS) {
        throw new DomainError(TopUpErrorCodes.Unavailable, 'unavailable', 'The top-up is being changed by too many events at once; try again.');
      }
      // The money before the status: SUCCEEDED always means credited.
      if (next.kind === 'credit-and-move') await this.ledger.change(topUp.userId, topUpEntryId(topUp.topUpId), topUp.amount);
      const now = new Date();
      if (await this.topUps.transition(topUp.topUpId, next.from, next.to, now)) {
        const { from, to } = next;
        this.count(() => this.counts.moved(from, to), topUp.topUpId);
        topUp = { ...topUp, status: next.to, updatedAt: now };
        this.logger.log({ msg: `top-up ${next.to}`, topUpId: topUp.topUpId, userId: topUp.userId, amount: topUp.amount, eventId: event.eventId });
        break;
      }
      // Another event or delivery moved it in between: decide again from what it is now.
      topUp = (await this.topUps.find(topUp.topUpId)) ?? topUp;
    }

    const first = await this.topUps.recordHandled({
      eventId: event.eventId,
      type: event.type,
      paymentReference: event.paymentReference,
      topUpId: topUp.topUpId,
      amount: event.amount,
      handledAt: new Date(),
    });
    return { eventId: event.eventId, topUpId: topUp.topUpId, status: topUp.status, outcome: first ? 'applied' : 'duplicate' };
  }

  /** A failure of Cassandra, not of the request: the caller may retry, and the provider's retry finishes the job. */
  private readonly unavailable = (error: unknown): never => {
    if (error instanceof DomainError) throw error;
    this.logger.warn({ msg: 'top-up storage failed', err: (error as Error).message });
    throw new DomainError(TopUpErrorCodes.Unavailable, 'unavailable', 'Top-ups cannot be read or written right now; nothing was lost, try again shortly.');
  };

  private async statusOf(topUpId: string) {
    const topUp = await this.topUps.find(topUpId);
    if (!topUp) throw new Error(`payment event recorded for top-up ${topUpId}, which does not exist`);
    return topUp.status;
  }
}

/** What the user pays with at the provider: unguessable, printable, short. */
function newPaymentReference(): string {
  return `pay_${randomBytes(16).toString('hex')}`;
}
