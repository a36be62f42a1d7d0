import { createHmac, timingSafeEqual } from 'node:crypto';
import { SKU_PATTERN } from '@app/contracts';

/**
 * Opaque, signed page tokens: `base64url(position).signature`. The position is the last sku
 * of the page; the signature makes an altered token fail loudly instead of paging from
 * somewhere unexpected.
 */
export class PageTokens {
  constructor(private readonly secret: string) {}

  encode(afterSku: string): string {
    const payload = Buffer.from(JSON.stringify({ v: 1, after: afterSku })).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  /** The position, or undefined when the token is malformed or not ours. */
  decode(token: string): string | undefined {
    const [payload, signature, extra] = token.split('.');
    if (!payload || !signature || extra !== undefined) return undefined;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { v?: unknown; after?: unknown };
      if (parsed.v !== 1 || typeof parsed.after !== 'string' || !SKU_PATTERN.test(parsed.after)) return undefined;
      return parsed.after;
    } catch {
      return undefined;
    }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url').slice(0, 22);
  }
}
