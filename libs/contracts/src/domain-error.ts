/**
 * What kind of failure a domain error is. The HTTP edge maps a kind to a status code;
 * a message consumer maps it to complete, retry or dead-letter. Services never pick statuses.
 */
export type DomainErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'unsupported'
  | 'unavailable';

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
