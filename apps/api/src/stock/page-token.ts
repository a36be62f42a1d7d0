import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError } from '@app/contracts';

/** Where the next page starts: after `after` in the store's sku order. */
export interface StockPageCursor {
  storeId: string;
  after: string;
}

const invalid = () =>
  new DomainError('STOCK.BAD_PAGE_TOKEN', 'invalid', 'pageToken is malformed or was altered; pass nextPageToken exactly as a previous page returned it.');

/**
 * Opaque page tokens: base64url(JSON) + "." + base64url(HMAC-SHA256). Signed with a secret from
 * the environment, so a token still works after a restart (or on another instance) and any edit is a 400.
 */
export class PageTokenCodec {
  constructor(private readonly secret: string) {}

  encode(cursor: StockPageCursor): string {
    const payload = Buffer.from(JSON.stringify({ s: cursor.storeId, a: cursor.after })).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  decode(token: string, storeId: string): StockPageCursor {
    const dot = token.indexOf('.');
    if (dot <= 0) throw invalid();
    const payload = token.slice(0, dot);
    // Compared as text: base64url decoding ignores the spare bits of the last character, so two
    // different signatures could decode to the same bytes.
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.sign(payload));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let parsed: { s?: unknown; a?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      throw invalid();
    }
    if (typeof parsed.s !== 'string' || typeof parsed.a !== 'string') throw invalid();
    if (parsed.s !== storeId) {
      throw new DomainError('STOCK.BAD_PAGE_TOKEN', 'invalid', `pageToken belongs to another store's listing than "${storeId}".`);
    }
    return { storeId: parsed.s, after: parsed.a };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}
