import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import {
  AccountRpcQueues,
  DomainError,
  GetPurchaseRequest,
  ListPurchasesRequest,
  PlacePurchaseRequest,
  PurchasePage,
  PurchaseView,
  ShopErrorCodes,
  ShopItem,
  ShopRpcQueues,
} from '@app/contracts';
import { RabbitRpcClient } from '@app/messaging';
import { ApiEnv } from '../config/api.env';

const DEFAULT_PAGE = 20;

/** The same user and key always name the same purchase, so account's insert-once makes a repeat buy nothing. */
export function purchaseIdFor(userId: string, key: string): string {
  const hex = createHash('sha256').update(`purchase\n${userId}\n${key}`).digest('hex');
  // Shaped as a version-5-style UUID (name-based) so every purchase id looks alike.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

@Injectable()
export class PurchasesService {
  constructor(
    private readonly rpc: RabbitRpcClient,
    private readonly env: ApiEnv,
  ) {}

  /** The amount is fixed now, at the price the catalog shows; an unknown sku is recorded and REJECTED by account. */
  async place(userId: string, sku: string, quantity: number, key?: string): Promise<PurchaseView> {
    const purchaseId = key ? purchaseIdFor(userId, key) : randomUUID();
    const unitPrice = await this.priceOf(sku);
    const request: PlacePurchaseRequest = { purchaseId, userId, sku, quantity, unitPrice };
    return this.call<PurchaseView>(AccountRpcQueues.PlacePurchase, request);
  }

  get(userId: string, purchaseId: string, waitMs?: number): Promise<PurchaseView> {
    if (!waitMs) return this.call<PurchaseView>(AccountRpcQueues.GetPurchase, { userId, purchaseId } satisfies GetPurchaseRequest);
    // Leave account time to answer within our own RPC deadline.
    const wait = Math.max(0, Math.min(waitMs, this.env.RPC_TIMEOUT_MS - 1_000));
    return this.rpc.request<PurchaseView>(AccountRpcQueues.GetPurchase, { userId, purchaseId, waitMs: wait } satisfies GetPurchaseRequest, {
      timeoutMs: wait + this.env.RPC_TIMEOUT_MS,
    });
  }

  list(userId: string, limit = DEFAULT_PAGE, pageToken?: string): Promise<PurchasePage> {
    return this.call<PurchasePage>(AccountRpcQueues.ListPurchases, { userId, limit, pageToken } satisfies ListPurchasesRequest);
  }

  private async priceOf(sku: string): Promise<number | undefined> {
    try {
      return (await this.call<ShopItem>(ShopRpcQueues.GetItem, { sku })).price;
    } catch (error) {
      if (error instanceof DomainError && error.code === ShopErrorCodes.NotFound) return undefined;
      throw error;
    }
  }

  private call<R>(queue: string, request: object): Promise<R> {
    return this.rpc.request<R>(queue, request, { timeoutMs: this.env.RPC_TIMEOUT_MS });
  }
}
