import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Opaque page tokens, the one codec of every paged listing: base64url(JSON of the position) "."
 * base64url(HMAC-SHA256 of it). Signed with a secret from the environment, so a token still works
 * after a restart or on another instance, and an altered one is refused instead of paging from
 * somewhere unexpected. `read` checks a decoded position's shape.
 */
export class SignedPageTokens<P> {
  constructor(
    private readonly secret: string,
    private readonly read: (position: unknown) => P | undefined,
  ) {}

  encode(position: P): string {
    const payload = Buffer.from(JSON.stringify(position)).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  /** The position, or undefined when the token is malformed, altered or signed with another secret. */
  decode(token: string): P | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = token.slice(0, dot);
    // Compared as text: base64url decoding ignores the spare bits of the last character, so two
    // different signatures could decode to the same bytes.
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.sign(payload));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return this.read(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    } catch {
      return undefined;
    }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}
