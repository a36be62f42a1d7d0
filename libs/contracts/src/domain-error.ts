/**
 * What kind of failure a domain error is. The HTTP edge maps a kind to a status code;
 * a message consumer maps it to complete, retry or dead-letter. Services never pick statuses.
 */
export type DomainErrorKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'too_large' | 'unsupported' | 'unavailable';

/** Error codes of the messaging between the apps (a caller may see them in an answer). */
export const MessagingErrorCodes = {
  /** A request or message that breaks its contract. */
  Invalid: 'MESSAGE.INVALID',
  /** A message on a queue that has no handler for its routing key. */
  UnknownType: 'MESSAGE.UNKNOWN_TYPE',
  RpcTimeout: 'RPC.TIMEOUT',
  RpcUnavailable: 'RPC.UNAVAILABLE',
  /** The remote handler failed with an error it did not expect (its details stay in its log). */
  Internal: 'INTERNAL',
} as const;

/** Error codes of the HTTP edge itself. */
export const RequestErrorCodes = {
  UnknownId: 'REQUEST.UNKNOWN_ID',
  InvalidIdempotencyKey: 'REQUEST.INVALID_IDEMPOTENCY_KEY',
} as const;

/** A failure the domain expects, with a stable code such as `PURCHASE.INSUFFICIENT_BALANCE`. */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly kind: DomainErrorKind,
    message: string,
    readonly details?: unknown[],
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** True for failures that may pass when tried again later (a dependency was down). */
  get retryable(): boolean {
    return this.kind === 'unavailable';
  }
}
