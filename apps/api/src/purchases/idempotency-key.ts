import { DomainError, RequestErrorCodes } from '@app/contracts';

const KEY = /^[\x21-\x7e]{1,255}$/;

/** The `Idempotency-Key` header, checked: printable ASCII, 1–255 characters; undefined when absent. */
export function idempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (!KEY.test(value)) {
    throw new DomainError(RequestErrorCodes.InvalidIdempotencyKey, 'invalid', 'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.');
  }
  return value;
}
