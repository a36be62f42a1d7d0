import { isEmail, ValidateBy, ValidationOptions } from 'class-validator';

/** RFC 5321's limit on a forward path. */
export const MAX_EMAIL_LENGTH = 254;

// C0, DEL and C1 controls, invisible format characters such as bidi overrides and zero-width spaces, and
// lone surrogates (validator's isEmail throws on them).
const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u;

/**
 * Why `value` is not an e-mail address accounts accept, in words a person can act on; undefined
 * when it is one. Accepted: a plain `local@domain.tld` of at most 254 characters. Quoted local
 * parts (`"a@b"@example.com`) are refused: mail systems disagree on where such an address goes.
 */
export function emailAddressProblem(value: unknown, field = 'email'): string | undefined {
  if (typeof value !== 'string') return `${field} must be a string`;
  if (value.length > MAX_EMAIL_LENGTH) return `${field} must be at most ${MAX_EMAIL_LENGTH} characters long`;
  if (CONTROL_OR_FORMAT.test(value)) return `${field} must not contain control or invisible formatting characters`;
  if (value.includes('"')) return `${field} must be a plain address like name@example.com; quoted local parts are not accepted`;
  if (!isEmail(value, { allow_display_name: false, allow_ip_domain: false, require_tld: true })) {
    return `${field} must be a plain address like name@example.com`;
  }
  return undefined;
}

export function isPlainEmailAddress(value: unknown): value is string {
  return emailAddressProblem(value) === undefined;
}

/** class-validator decorator for {@link emailAddressProblem}; the message names the property. */
export function IsPlainEmailAddress(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPlainEmailAddress',
      validator: {
        validate: (value) => isPlainEmailAddress(value),
        defaultMessage: (args) => emailAddressProblem(args?.value, args?.property) ?? `${args?.property} must be an e-mail address`,
      },
    },
    options,
  );
}
