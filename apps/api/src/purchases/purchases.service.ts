import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { EMPTY, Observable } from 'rxjs';
import {
  AccountErrorCodes,
  AccountRpc,
  DomainError,
  GetPurchaseRequest,
  ListPurchasesRequest,
  PlacePurchaseRequest,
  PurchaseLineRequest,
  PurchasePage,
  PurchaseStatus,
  PurchaseView,
  ShopErrorCodes,
  ShopRpc,
} from '@app/contracts';
import { RabbitClient } from '@app/messaging';
import { ApiEnv } from '../config/api.env';
import { isTerminalStatus, PurchaseFollowers } from './purchase-followers';

const DEFAULT_PAGE = 20;

/** Long polls one user may hold at once on one api instance. */
export const MAX_WAITS_PER_USER = 4;

/** What a purchase stream sends: the purchase (its status as the event id), or a comment that keeps the connection open. */
export type PurchaseStreamEvent = { id: PurchaseStatus; data: PurchaseView } | { comment: string };

/** The same user and key always name the same purchase, so account's insert-once makes a repeat buy nothing. */
export function purchaseIdFor(userId: string, key: string): string {
  const hex = createHash('sha256').update(`purchase\n${userId}\n${key}`).digest('hex');
  // Shaped as a version-5-style UUID (name-based) so every purchase id looks alike.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A checkout's key names a purchase apart from a single-item purchase with the same key. */
const checkoutKey = (key: string) => `checkout\n${key}`;

@Injectable()
export class PurchasesService {
  /** Long polls under way, by user. */
  private readonly waits = new Map<string, number>();

  constructor(
    private readonly rabbit: RabbitClient,
    private readonly followers: PurchaseFollowers,
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
   * One purchase of every line (a checked-out cart), at the unit prices the shop confirmed. With a
   * key, a repeat names the same purchase, which account records once.
   */
  placeLines(userId: string, lines: PurchaseLineRequest[], key?: string): Promise<PurchaseView> {
    const purchaseId = key ? purchaseIdFor(userId, checkoutKey(key)) : randomUUID();
    const request: PlacePurchaseRequest = { purchaseId, userId, lines };
    return this.rabbit.request(AccountRpc.PlacePurchase, request);
  }

  /** The cart purchase an earlier checkout with this Idempotency-Key placed, if any. */
  async findByKey(userId: string, key: string): Promise<PurchaseView | undefined> {
    try {
      return await this.read(userId, purchaseIdFor(userId, checkoutKey(key)));
    } catch (error) {
      if (error instanceof DomainError && error.code === AccountErrorCodes.PurchaseNotFound) return undefined;
      throw error;
    }
  }

  /**
   * With `waitMs`, a long poll answered from this instance's {@link PurchaseFollowers}: as soon as
   * any account instance moves the purchase to a terminal status, else after `waitMs` with the
   * purchase read again. A user holds at most {@link MAX_WAITS_PER_USER} of them at once on this
   * instance; past that, the answer is the current state at once (still correct, just not held).
   */
  async get(userId: string, purchaseId: string, waitMs?: number): Promise<PurchaseView> {
    const held = this.waits.get(userId) ?? 0;
    if (!waitMs || held >= MAX_WAITS_PER_USER) return this.read(userId, purchaseId);
    this.waits.set(userId, held + 1);
    let wake!: (terminal?: PurchaseView) => void;
    const woken = new Promise<PurchaseView | undefined>((resolve) => (wake = resolve));
    // Followed before the first read, so that a change between the read and the wait is not missed.
    const following = this.followers.follow(userId, purchaseId, 'wait', {
      changed: (view) => isTerminalStatus(view.status) && wake(view),
      ended: () => wake(),
    });
    const timer = setTimeout(() => wake(), waitMs);
    try {
      const now = await this.read(userId, purchaseId);
      if (isTerminalStatus(now.status)) return now;
      return (await woken) ?? (await this.read(userId, purchaseId));
    } finally {
      clearTimeout(timer);
      following.close();
      const left = (this.waits.get(userId) ?? 1) - 1;
      if (left > 0) this.waits.set(userId, left);
      else this.waits.delete(userId);
    }
  }

  /**
   * The purchase's event stream: the purchase as {@link get} returns it, then the purchase again each
   * time its status changes (never the same status twice), ending after a terminal one. Throws before
   * the stream starts (a 404 for another user's purchase, the stream limits), so the caller can still
   * answer with an error body. Resolves to undefined when the client asks to resume after the terminal
   * event it already has (`Last-Event-ID` is the status of the last event): nothing more will come.
   */
  async stream(
    userId: string,
    purchaseId: string,
    options: { lastEventId?: string; signal?: AbortSignal } = {},
  ): Promise<Observable<PurchaseStreamEvent> | undefined> {
    const early: PurchaseView[] = [];
    let handOn: ((view: PurchaseView) => void) | undefined;
    let end: (() => void) | undefined;
    const following = this.followers.follow(userId, purchaseId, 'stream', {
      changed: (view) => (handOn ? handOn(view) : early.push(view)),
      ended: () => (end ? end() : following.close()),
    });
    options.signal?.addEventListener('abort', () => following.close(), { once: true });
    let first: PurchaseView;
    try {
      first = await this.read(userId, purchaseId);
    } catch (error) {
      following.close();
      throw error;
    }
    if (options.signal?.aborted) {
      // The client left while the purchase was read: nobody will subscribe.
      following.close();
      return EMPTY;
    }
    if (isTerminalStatus(first.status) && options.lastEventId === first.status) {
      following.close();
      return undefined;
    }
    const heartbeatMs = this.env.PURCHASE_STREAM_HEARTBEAT_MS;
    return new Observable<PurchaseStreamEvent>((subscriber) => {
      let last: PurchaseStatus | undefined;
      const emit = (view: PurchaseView) => {
        if (subscriber.closed || view.status === last || (last !== undefined && isTerminalStatus(last))) return;
        last = view.status;
        subscriber.next({ id: view.status, data: view });
        if (isTerminalStatus(view.status)) subscriber.complete();
      };
      end = () => subscriber.complete();
      emit(first);
      for (const view of early.splice(0)) emit(view);
      handOn = emit;
      const heartbeat = setInterval(() => subscriber.next({ comment: 'keep-alive' }), heartbeatMs);
      return () => {
        clearInterval(heartbeat);
        following.close();
      };
    });
  }

  list(userId: string, limit = DEFAULT_PAGE, pageToken?: string): Promise<PurchasePage> {
    return this.rabbit.request(AccountRpc.ListPurchases, { userId, limit, pageToken } satisfies ListPurchasesRequest);
  }

  private read(userId: string, purchaseId: string): Promise<PurchaseView> {
    return this.rabbit.request(AccountRpc.GetPurchase, { userId, purchaseId } satisfies GetPurchaseRequest);
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
