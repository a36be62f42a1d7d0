import { SignedPageTokens, SKU_WITH_LENGTH_PATTERN } from '@app/contracts';

/** The catalog listing's page tokens: the position is the last sku of the page. */
export class PageTokens {
  private readonly tokens: SignedPageTokens<{ v: 1; after: string }>;

  constructor(secret: string) {
    this.tokens = new SignedPageTokens(secret, (p) => {
      const { v, after } = (p ?? {}) as { v?: unknown; after?: unknown };
      return v === 1 && typeof after === 'string' && SKU_WITH_LENGTH_PATTERN.test(after) ? { v, after } : undefined;
    });
  }

  encode(afterSku: string): string {
    return this.tokens.encode({ v: 1, after: afterSku });
  }

  /** The position, or undefined when the token is malformed or not ours. */
  decode(token: string): string | undefined {
    return this.tokens.decode(token)?.after;
  }
}
