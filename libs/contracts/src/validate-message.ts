import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { DomainError } from './domain-error';

type Constructor<T> = new () => T;

/** The outcome of checking a received message against its contract class. */
export type Decoded<T> =
  | { ok: true; value: T }
  /** `reason` names the contract (for dead-letter reasons and logs); `problems` is fit for the caller. */
  | { ok: false; reason: string; problems?: string };

/**
 * Parses and validates one message body against its contract: the same classes guard the
 * producer and the consumer. A failure is described in words, for the dead-letter reason.
 */
export function decodeMessage<T extends object>(Contract: Constructor<T>, body: Buffer | string | null): Decoded<T> {
  if (body === null) return { ok: false, reason: 'empty message body' };
  let plain: unknown;
  try {
    plain = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return { ok: false, reason: 'message body is not a JSON object' };
  }
  let value: T;
  let errors: ValidationError[];
  try {
    value = plainToInstance(Contract, plain);
    errors = validateSync(value, { whitelist: true, forbidUnknownValues: true });
  } catch (error) {
    // A validator that throws (validator's isEmail on a lone surrogate) must not turn into a retry loop.
    return { ok: false, reason: `invalid ${Contract.name}: ${(error as Error).message}`, problems: 'it holds values that cannot be checked' };
  }
  if (errors.length > 0) {
    const reasons = errors.flatMap((e) => Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` }));
    return { ok: false, reason: `invalid ${Contract.name}: ${reasons.join('; ')}`, problems: reasons.join('; ') };
  }
  return { ok: true, value };
}

/** Validates an outgoing message; a producer never sends what its consumers would reject. */
export function assertValidMessage<T extends object>(Contract: Constructor<T>, message: T): void {
  const errors = validateSync(plainToInstance(Contract, message), { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const reasons = errors.flatMap((e) => Object.values(e.constraints ?? {}));
    throw new Error(`refusing to send an invalid ${Contract.name}: ${reasons.join('; ')}`);
  }
}

/**
 * Checks a parsed message against a more specific contract (one queue carrying several message
 * types, told apart by routing key). A failure is a non-retryable DomainError: dead-lettered at once.
 */
export function validateAs<T extends object>(Contract: Constructor<T>, message: object): T {
  const value = plainToInstance(Contract, message);
  const errors = validateSync(value, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const reasons = errors.flatMap((e) => Object.values(e.constraints ?? {}));
    throw new DomainError('MESSAGE.INVALID', 'invalid', `invalid ${Contract.name}: ${reasons.join('; ')}`);
  }
  return value;
}
