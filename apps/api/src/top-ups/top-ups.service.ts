import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  AccountRpc,
  ApplyPaymentEventRequest,
  checkContract,
  CreateTopUpRequest,
  DomainError,
  GetTopUpRequest,
  PaymentEventOutcome,
  TopUpView,
} from '@app/contracts';
import { RabbitClient } from '@app/messaging';
import { ApiEnv } from '../config/api.env';
import { PaymentEventDto } from './dto/top-ups.request.dto';
import { verifyPaymentSignature } from './payment-signature';

/** Error codes of the webhook's edge (account's, such as TOP_UP.AMOUNT_MISMATCH, are in `TopUpErrorCodes`). */
export const PaymentWebhookErrorCodes = {
  SignatureMissing: 'WEBHOOK.SIGNATURE_MISSING',
  SignatureMalformed: 'WEBHOOK.SIGNATURE_MALFORMED',
  SignatureMismatch: 'WEBHOOK.SIGNATURE_MISMATCH',
  SignatureStale: 'WEBHOOK.SIGNATURE_STALE',
  InvalidEvent: 'WEBHOOK.INVALID_EVENT',
} as const;

const SIGNATURE_CODES = {
  missing: PaymentWebhookErrorCodes.SignatureMissing,
  malformed: PaymentWebhookErrorCodes.SignatureMalformed,
  mismatch: PaymentWebhookErrorCodes.SignatureMismatch,
  stale: PaymentWebhookErrorCodes.SignatureStale,
} as const;

/** A top-up as its user (and the contract) sees it. */
export interface TopUpReply {
  topUpId: string;
  status: TopUpView['status'];
  amount: number;
  paymentReference: string;
}

const reply = (t: TopUpView): TopUpReply => ({ topUpId: t.topUpId, status: t.status, amount: t.amount, paymentReference: t.paymentReference });

/**
 * The api's side of top-ups: account owns them and the money; the api creates and reads them for
 * their user, and is the provider's webhook endpoint, which it authenticates (the signature over
 * the raw body) before account sees an event.
 */
@Injectable()
export class TopUpsService {
  constructor(
    private readonly rabbit: RabbitClient,
    private readonly env: ApiEnv,
  ) {}

  async create(userId: string, amount: number): Promise<TopUpReply> {
    return reply(await this.rabbit.request(AccountRpc.CreateTopUp, { topUpId: randomUUID(), userId, amount } satisfies CreateTopUpRequest));
  }

  async get(userId: string, topUpId: string): Promise<TopUpReply> {
    return reply(await this.rabbit.request(AccountRpc.GetTopUp, { userId, topUpId } satisfies GetTopUpRequest));
  }

  /** Throws the 401 a delivery gets when its Payment-Signature is missing, malformed, wrong or stale. */
  assertSigned(header: string | string[] | undefined, rawBody: Buffer): void {
    const check = verifyPaymentSignature(header, rawBody, this.env.PAYMENT_WEBHOOK_SECRET, Date.now());
    if (!check.ok) throw new DomainError(SIGNATURE_CODES[check.problem], 'unauthenticated', check.message);
  }

  /**
   * One authenticated delivery of the provider's webhook (see {@link assertSigned}): checked, then
   * applied by account, which answers once the effect is durable (a succeeded payment is on the balance).
   */
  async receive(body: unknown): Promise<PaymentEventOutcome> {
    return this.rabbit.request(AccountRpc.ApplyPaymentEvent, parsePaymentEvent(body));
  }
}

/** The event in the body, or the 400 that says what is wrong with it. */
export function parsePaymentEvent(body: unknown): ApplyPaymentEventRequest {
  const invalid = (problem: string) =>
    new DomainError(
      PaymentWebhookErrorCodes.InvalidEvent,
      'invalid',
      `The event is invalid: ${problem}. Expected { "id", "type": "payment.succeeded"|"payment.failed", "data": { "paymentReference", "amount" } }.`,
    );
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body is not a JSON object');
  const checked = checkContract(PaymentEventDto, body);
  if (!checked.ok) throw invalid(checked.problems);
  const event = checked.value;
  return { eventId: event.id, type: event.type, paymentReference: event.data.paymentReference, amount: event.data.amount };
}
