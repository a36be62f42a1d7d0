import { Injectable } from '@nestjs/common';
import { DomainError, StockErrorCodes } from '@app/contracts';
import { ApiEnv } from '../config/api.env';
import { PageTokenCodec } from './page-token';
import { StockLevelsRepository } from './stock-levels.repository';

export interface StockPage {
  items: { sku: string; quantity: number; updatedAt: string }[];
  nextPageToken: string | null;
}

@Injectable()
export class StockLevelsService {
  private readonly tokens: PageTokenCodec;

  constructor(
    private readonly repository: StockLevelsRepository,
    env: ApiEnv,
  ) {
    this.tokens = new PageTokenCodec(env.PAGE_TOKEN_SECRET);
  }

  /** Keyset paging on sku: a page never repeats or skips a row, even while levels change. */
  async list(storeId: string, limit = 100, pageToken?: string, below?: number): Promise<StockPage> {
    const after = pageToken === undefined || pageToken === '' ? '' : this.tokens.decode(pageToken, storeId).after;
    const rows = await this.repository.page(storeId, after, limit + 1, below);
    const items = rows.slice(0, limit);
    const nextPageToken = rows.length > limit ? this.tokens.encode({ storeId, after: items[items.length - 1].sku }) : null;
    return { items: items.map((r) => ({ sku: r.sku, quantity: r.quantity, updatedAt: r.updatedAt.toISOString() })), nextPageToken };
  }

  async one(storeId: string, sku: string) {
    const level = await this.repository.one(storeId, sku);
    if (!level) throw new DomainError(StockErrorCodes.NotFound, 'not_found', `Store "${storeId}" has never reported sku "${sku}".`);
    return { storeId: level.storeId, sku: level.sku, quantity: level.quantity, updatedAt: level.updatedAt.toISOString() };
  }

  async totals(sku: string) {
    const levels = await this.repository.bySku(sku);
    if (levels.length === 0) throw new DomainError(StockErrorCodes.NotFound, 'not_found', `No store has ever reported sku "${sku}".`);
    return {
      sku,
      total: levels.reduce((sum, l) => sum + l.quantity, 0),
      stores: levels.map((l) => ({ storeId: l.storeId, quantity: l.quantity })),
    };
  }
}
