import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';

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
  const checked = checkContract(Contract, plain);
  if (!checked.ok) return { ok: false, reason: `invalid ${Contract.name}: ${checked.problems}`, problems: checked.problems };
  return checked;
}

/**
 * Builds the contract's instance from a plain value and validates it (unknown properties
 * stripped). `problems` lists what is wrong in words, fit for a caller; a validator that throws
 * (validator's isEmail on a lone surrogate) is a problem too, never an exception.
 */
export function checkContract<T extends object>(Contract: Constructor<T>, plain: unknown): { ok: true; value: T } | { ok: false; problems: string } {
  // A contract with nothing to say (a request without parameters): any object, emptied, is it.
  // class-validator would call every instance of such a class "an unknown value".
  if (hasNoConstraints(Contract)) {
    return typeof plain === 'object' && plain !== null && !Array.isArray(plain)
      ? { ok: true, value: new Contract() }
      : { ok: false, problems: 'it is not an object' };
  }
  try {
    const value = plainToInstance(Contract, plain);
    const errors = validateSync(value as object, { whitelist: true, forbidUnknownValues: true });
    if (errors.length === 0) return { ok: true, value };
    return { ok: false, problems: describeErrors(errors) };
  } catch {
    return { ok: false, problems: 'it holds values that cannot be checked' };
  }
}

/** Whether a contract class declares no constraint at all; looked up once per class (this runs for every message). */
const unconstrained = new WeakMap<Constructor<object>, boolean>();
function hasNoConstraints(Contract: Constructor<object>): boolean {
  let none = unconstrained.get(Contract);
  if (none === undefined) {
    none = getMetadataStorage().getTargetValidationMetadatas(Contract, '', true, false).length === 0;
    unconstrained.set(Contract, none);
  }
  return none;
}

/** The one wording of class-validator errors, nested ones included, for logs, dead-letter reasons and callers. */
export function describeErrors(errors: ValidationError[], path = ''): string {
  return errors
    .flatMap((e) => {
      const at = path ? `${path}.${e.property}` : e.property;
      const own = Object.values(e.constraints ?? {}).map((text) => (path ? `${at}: ${text}` : text));
      const nested = e.children?.length ? [describeErrors(e.children, at)] : [];
      return own.length || nested.length ? [...own, ...nested] : [`${at} is invalid`];
    })
    .join('; ');
}

/** Validates an outgoing message; a producer never sends what its consumers would reject. */
export function assertValidMessage<T extends object>(Contract: Constructor<T>, message: T): void {
  const checked = checkContract(Contract, message);
  if (!checked.ok) throw new Error(`refusing to send an invalid ${Contract.name}: ${checked.problems}`);
}
