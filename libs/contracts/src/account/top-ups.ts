import { IsIn, IsInt, IsISO8601, IsString, IsUUID, Length, Matches, Max, Min } from 'class-validator';

/**
 * Top-ups: money a user pays in at an external payment provider. The user creates an intent
 * (PENDING) and pays with its `paymentReference`; the provider's webhook reaches the api, which
 * passes the verified event to account. Account credits the ledger once per top-up (entry
 * `topup:<topUpId>`) before it answers, so the api answers the provider only once the money is
 * durably on the balance. Request/reply operations: `AccountRpc.CreateTopUp`, `GetTopUp`,
 * `ApplyPaymentEvent` (topology.ts).
 */

/** Smallest and largest top-up, in cents. */
export const MIN_TOP_UP_CENTS = 100;
export const MAX_TOP_UP_CENTS = 1_000_000;

export const TOP_UP_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED'] as const;
export type TopUpStatus = (typeof TOP_UP_STATUSES)[number];

export const PAYMENT_EVENT_TYPES = ['payment.succeeded', 'payment.failed'] as const;
export type PaymentEventType = (typeof PAYMENT_EVENT_TYPES)[number];

/** The provider's event ids and the payment references we issue: printable ASCII without spaces. */
export const PAYMENT_TOKEN_PATTERN = /^[\x21-\x7e]+$/;
export const MAX_PAYMENT_EVENT_ID_LENGTH = 255;
export const MAX_PAYMENT_REFERENCE_LENGTH = 128;

export const TopUpErrorCodes = {
  /** GetTopUp: unknown, or another user's (not_found). */
  NotFound: 'TOP_UP.NOT_FOUND',
  /** ApplyPaymentEvent: no top-up has this paymentReference (invalid; the api answers the provider 422). */
  UnknownPaymentReference: 'TOP_UP.UNKNOWN_PAYMENT_REFERENCE',
  /** ApplyPaymentEvent: the event's amount is not the top-up's (invalid; 422). */
  AmountMismatch: 'TOP_UP.AMOUNT_MISMATCH',
  /** Cassandra did not answer: nothing is lost, the provider's retry finishes the job (unavailable; 503). */
  Unavailable: 'TOP_UP.UNAVAILABLE',
} as const;

export class CreateTopUpRequest {
  @IsUUID() topUpId: string;
  @IsString() @Length(1, 64) userId: string;
  @IsInt() @Min(MIN_TOP_UP_CENTS) @Max(MAX_TOP_UP_CENTS) amount: number;
}

export class GetTopUpRequest {
  @IsString() @Length(1, 64) userId: string;
  @IsString() @Length(1, 64) topUpId: string;
}

/** A payment event whose signature the api has verified (the webhook's body, flattened). */
export class ApplyPaymentEventRequest {
  @IsString() @Length(1, MAX_PAYMENT_EVENT_ID_LENGTH) @Matches(PAYMENT_TOKEN_PATTERN) eventId: string;
  @IsIn(PAYMENT_EVENT_TYPES) type: PaymentEventType;
  @IsString() @Length(1, MAX_PAYMENT_REFERENCE_LENGTH) @Matches(PAYMENT_TOKEN_PATTERN) paymentReference: string;
  @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) amount: number;
}

// Replies.

export class TopUpView {
  @IsString() @Length(1, 64) topUpId: string;
  @IsIn(TOP_UP_STATUSES) status: TopUpStatus;
  @IsInt() @Min(MIN_TOP_UP_CENTS) @Max(MAX_TOP_UP_CENTS) amount: number;
  @IsString() @Length(1, MAX_PAYMENT_REFERENCE_LENGTH) paymentReference: string;
  @IsISO8601() createdAt: string;
  @IsISO8601() updatedAt: string;
}

/**
 * What an event did, once it is durable: `applied` the first time an event id is handled,
 * `duplicate` when that id was handled before (then nothing changed). `status` is the top-up's
 * status after it.
 */
export class PaymentEventOutcome {
  @IsString() @Length(1, MAX_PAYMENT_EVENT_ID_LENGTH) eventId: string;
  @IsString() @Length(1, 64) topUpId: string;
  @IsIn(TOP_UP_STATUSES) status: TopUpStatus;
  @IsIn(['applied', 'duplicate']) outcome: 'applied' | 'duplicate';
}

/** Asks for the count of top-ups in each status; nothing to say. */
export class TopUpCountsRequest {}

/** Top-ups in each status since the system was first started, for the operators' health. */
export class TopUpCounts {
  @IsInt() @Min(0) PENDING: number;
  @IsInt() @Min(0) SUCCEEDED: number;
  @IsInt() @Min(0) FAILED: number;
}
