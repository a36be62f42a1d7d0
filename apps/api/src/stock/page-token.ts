import { DomainError, SignedPageTokens, StockErrorCodes } from '@app/contracts';

/** Where the next page starts: after `after` in the store's sku order. */
export interface StockPageCursor {
  storeId: string;
  after: string;
}

const invalid = () =>
  new DomainError(StockErrorCodes.BadPageToken, 'invalid', 'pageToken is malformed or was altered; pass nextPageToken exactly as a previous page returned it.');

/** The stock listing's page tokens: signed, and bound to the store they page through. */
export class PageTokenCodec {
  private readonly tokens: SignedPageTokens<{ s: string; a: string }>;

  constructor(secret: string) {
    this.tokens = new SignedPageTokens(secret, (p) => {
      const { s, a } = (p ?? {}) as { s?: unknown; a?: unknown };
      return typeof s === 'string' && typeof a === 'string' ? { s, a } : undefined;
    });
  }

  encode(cursor: StockPageCursor): string {
    return this.tokens.encode({ s: cursor.storeId, a: cursor.after });
  }

  decode(token: string, storeId: string): StockPageCursor {
    const position = this.tokens.decode(token);
    if (!position) throw invalid();
    if (position.s !== storeId) {
      throw new DomainError(StockErrorCodes.BadPageToken, 'invalid', `pageToken belongs to another store's listing than "${storeId}".`);
    }
    return { storeId: position.s, after: position.a };
  }
}
