import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const KEY_LENGTH = 64;

/** scrypt's cost N, block size r and parallelism p. Memory per hash ≈ 128 × N × r bytes; time grows with N × r × p. */
export interface ScryptParameters {
  N: number;
  r: number;
  p: number;
}

/**
 * OWASP's Password Storage Cheat Sheet lists N=2^14, r=8, p=5 as equivalent to its first choice
 * N=2^17, r=8, p=1, with an eighth of the memory: 16 MiB per hash, so concurrent logins stay cheap.
 */
export const DEFAULT_SCRYPT_PARAMETERS: ScryptParameters = { N: 2 ** 14, r: 8, p: 5 };

// A stored hash names its own parameters: bound them, so a planted row cannot make one login take gigabytes.
// (The settings' upper bounds, N = 2^20 with r = 8 and p = 16, are within them.)
const MAX_MEMORY_BYTES = 1024 * 1024 * 1024;
const MAX_WORK = 2 ** 27;

interface StoredHash {
  parameters: ScryptParameters;
  salt: Buffer;
  key: Buffer;
}

function derive(password: string, salt: Buffer, { N, r, p }: ScryptParameters): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 1 && (n & (n - 1)) === 0;
}

function withinBounds({ N, r, p }: ScryptParameters): boolean {
  return isPowerOfTwo(N) && Number.isInteger(r) && Number.isInteger(p) && r >= 1 && p >= 1 && 128 * N * r <= MAX_MEMORY_BYTES && N * r * p <= MAX_WORK;
}

function parse(stored: string): StoredHash | undefined {
  const [scheme, n, r, p, salt, key, ...rest] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key || rest.length > 0) return undefined;
  const parameters = { N: Number(n), r: Number(r), p: Number(p) };
  if (!withinBounds(parameters)) return undefined;
  return { parameters, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') };
}

/**
 * scrypt (memory-hard), self-describing: `scrypt$N$r$p$salt$key`, so the parameters can change
 * and old hashes still verify; {@link needsRehash} says when a login should store a new one.
 */
export class PasswordHasher {
  constructor(readonly parameters: ScryptParameters = DEFAULT_SCRYPT_PARAMETERS) {
    if (!withinBounds(parameters)) throw new Error(`scrypt parameters out of bounds: ${JSON.stringify(parameters)}`);
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const { N, r, p } = this.parameters;
    const key = await derive(password, salt, this.parameters);
    return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const parsed = parse(stored);
    if (!parsed) return false;
    const actual = await derive(password, parsed.salt, parsed.parameters);
    return actual.length === parsed.key.length && timingSafeEqual(actual, parsed.key);
  }

  /**
   * True when `stored` costs less memory or less work than the configured parameters. A hash
   * stronger on both is kept, so lowering the settings never weakens stored hashes.
   */
  needsRehash(stored: string): boolean {
    const parsed = parse(stored);
    if (!parsed) return false;
    const { N, r, p } = parsed.parameters;
    const wanted = this.parameters;
    return N * r < wanted.N * wanted.r || N * r * p < wanted.N * wanted.r * wanted.p;
  }
}
