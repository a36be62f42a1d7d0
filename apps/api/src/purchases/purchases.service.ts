import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import {
  AccountRpc,
  DomainError,
  GetPurchaseRequest,
  ListPurchasesRequest,
  PlacePurchaseRequest,
  PurchasePage,
  PurchaseView,
  ShopErrorCodes,
  ShopRpc,
} from '@app/contracts';
import { RabbitClient, RabbitRecord } from '@app/messaging';
import { ApiEnv } from '../config/api.env';

const DEFAULT_PAGE = 20;

/** Long polls one user may hold at once on one api instance. */
export const MAX_WAITS_PER_USER = 4;

/** The same user and key always name the same purchase, so account's insert-once makes a repeat buy nothing. */
export function purchaseIdFor(userId: string, key: string): string {
  const hex = createHash('sha256').update(`purchase\n${userId}\n${key}`).digest('hex');
  // Shaped as a version-5-style UUID (name-based) so every purchase id looks alike.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

@Injectable()
export class PurchasesService {
  /** Long polls under way, by user. */
  private readonly waits = new Map<string, number>();

  constructor(
    private readonly rabbit: RabbitClient,
    private readonly env: ApiEnv,
  ) {}

  /** The amount is fixed now, at the price the catalog shows; an unknown sku is recorded and REJECTED by account. */
  async place(userId: string, sku: string, quantity: number, key?: string): Promise<PurchaseView> {
    const purchaseId = key ? purchaseIdFor(userId, key) : randomUUID();
    const unitPrice = await this.priceOf(sku);
    const request: PlacePurchaseRequest = { purchaseId, userId, sku, quantity, unitPrice };
    return this.rabbit.request(AccountRpc.PlacePurchase, request);
  }

  /**
   * With `waitMs`, a long poll on account's own wait queue. A user holds at most
   * {@link MAX_WAITS_PER_USER} of them at once on this instance; past that, the answer is the
   * current state at once (still correct, just not held).
   */
  async get(userId: string, purchaseId: string, waitMs?: number): Promise<PurchaseView> {
    const held = this.waits.get(userId) ?? 0;
    if (!waitMs || held >= MAX_WAITS_PER_USER) {
      return this.rabbit.request(AccountRpc.GetPurchase, { userId, purchaseId } satisfies GetPurchaseRequest);
    }
    this.waits.set(userId, held + 1);
    try {
      const request: GetPurchaseRequest = { userId, purchaseId, waitMs };
      return await this.rabbit.request(AccountRpc.WaitPurchase, new RabbitRecord(request, { timeoutMs: waitMs + this.env.RPC_TIMEOUT_MS }));
    } finally {
      const left = (this.waits.get(userId) ?? 1) - 1;
      if (left > 0) this.waits.set(userId, left);
      else this.waits.delete(userId);
    }
  }

  list(userId: string, limit = DEFAULT_PAGE, pageToken?: string): Promise<PurchasePage> {
    return this.rabbit.request(AccountRpc.ListPurchases, { userId, limit, pageToken } satisfies ListPurchasesRequest);
  }

  private async priceOf(sku: string): Promise<number | undefined> {
    try {
      return (await this.rabbit.request(ShopRpc.GetItem, { sku })).price;
    } catch (error) {
      if (error instanceof DomainError && error.code === ShopErrorCodes.NotFound) return undefined;
      throw error;
    }
  }
}
