import { Injectable } from '@nestjs/common';
import { AccountErrorCodes, DomainError, PlacePurchaseRequest, PurchasePage, PurchaseView, SignedPageTokens } from '@app/contracts';
import { correlationId as currentCorrelationId } from '@app/observability';
import { AccountEnv } from '../config/account.env';
import { OpenPurchaseAges } from './open-purchase-ages';
import { purchaseView as view } from './purchase.mapper';
import { ListCursor, Purchase, PurchaseLine, PurchaseRepository } from './purchase.repository';
import { PurchaseSagaService, sagaSettings } from './purchase-saga.service';
import { PurchaseWatchers } from './purchase-watchers';
import { firstDueAt } from './saga';

function notFound(purchaseId: string): DomainError {
  return new DomainError(AccountErrorCodes.PurchaseNotFound, 'not_found', `There is no purchase ${purchaseId} of yours.`);
}

/** The request's lines (each sku once), or its single sku as one line. */
function linesOf(request: PlacePurchaseRequest): PurchaseLine[] {
  if (!request.lines) return [{ sku: request.sku!, quantity: request.quantity!, unitPrice: request.unitPrice ?? null }];
  const skus = new Set(request.lines.map((line) => line.sku));
  if (skus.size !== request.lines.length) {
    throw new DomainError(AccountErrorCodes.DuplicateLine, 'invalid', 'Each sku may appear in one line of a purchase only; merge the quantities.');
  }
  return request.lines.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice }));
}

/** A user's purchase list continues after this purchase (newest first). */
function cursorTokens(secret: string): SignedPageTokens<{ t: number; p: string }> {
  return new SignedPageTokens(secret, (position) => {
    const { t, p } = (position ?? {}) as { t?: unknown; p?: unknown };
    return Number.isSafeInteger(t) && (t as number) >= 0 && typeof p === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(p) ? { t: t as number, p } : undefined;
  });
}

/** The purchase use cases: place one, read one (with a long poll), list a buyer's. The saga runs in {@link PurchaseSagaService}. */
@Injectable()
export class PurchasesService {
  private readonly pageTokens: SignedPageTokens<{ t: number; p: string }>;

  constructor(
    private readonly purchases: PurchaseRepository,
    private readonly saga: PurchaseSagaService,
    private readonly watchers: PurchaseWatchers,
    private readonly ages: OpenPurchaseAges,
    private readonly env: AccountEnv,
  ) {
    this.pageTokens = cursorTokens(env.PURCHASE_PAGE_TOKEN_SECRET);
  }

  /** Records the purchase PENDING (once per id) and starts the saga without making the caller wait for it. */
  async place(request: PlacePurchaseRequest): Promise<PurchaseView> {
    const now = new Date();
    const lines = linesOf(request);
    const single = lines.length === 1 ? lines[0] : undefined;
    const purchase: Purchase = {
      purchaseId: request.purchaseId,
      userId: request.userId,
      sku: lines[0].sku,
      quantity: lines.reduce((sum, line) => sum + line.quantity, 0),
      unitPrice: single ? single.unitPrice : null,
      lines,
      amount: lines.reduce((sum, line) => sum + (line.unitPrice ?? 0) * line.quantity, 0),
      status: 'PENDING',
      stage: 'NEW',
      reason: null,
      attempts: 0,
      stageSince: now,
      correlationId: currentCorrelationId(),
      createdAt: now,
      updatedAt: now,
    };
    const dueAt = firstDueAt(now, sagaSettings(this.env));
    const { created, purchase: stored } = await this.purchases.insertOnce(purchase, dueAt);
    if (stored.userId !== request.userId) throw notFound(request.purchaseId);
    // The row just written is the state to start from: no read back.
    if (created) {
      this.ages.created(stored.purchaseId, stored.createdAt);
      setImmediate(() => void this.saga.drive(stored.purchaseId, stored));
    }
    return view(stored);
  }

  /**
   * With `waitMs`, a PENDING purchase is answered when this instance moves it to a terminal status,
   * or after `waitMs` (another instance may have moved it: the answer is read again either way).
   */
  async get(userId: string, purchaseId: string, waitMs = 0): Promise<PurchaseView> {
    // Watch before reading, so a change between the read and the wait is not missed.
    const watch = waitMs > 0 ? this.watchers.watch(purchaseId, waitMs) : undefined;
    try {
      let purchase = await this.purchases.find(purchaseId);
      if (!purchase || purchase.userId !== userId) throw notFound(purchaseId);
      if (watch && purchase.status === 'PENDING') {
        // Woken with the state this instance just wrote; after a timeout, read what there is.
        purchase = (await watch.changed) ?? (await this.purchases.find(purchaseId)) ?? purchase;
      }
      return view(purchase);
    } finally {
      watch?.cancel();
    }
  }

  async list(userId: string, limit: number, pageToken?: string): Promise<PurchasePage> {
    const after = pageToken ? this.decodeCursor(pageToken) : undefined;
    const cursors = await this.purchases.listByUser(userId, limit + 1, after);
    const page = cursors.slice(0, limit);
    const found = await Promise.all(page.map((c) => this.purchases.find(c.purchaseId)));
    // A listing row is the purchase's only when their times agree: an attempt that crashed before
    // its insert, then retried with the same id, leaves an earlier row behind (shown once, not twice).
    const items = found
      .filter((p, i): p is Purchase => p !== undefined && p.userId === userId && p.createdAt.getTime() === page[i].createdAt.getTime())
      .map(view);
    return { items, nextPageToken: cursors.length > limit ? this.encodeCursor(page[page.length - 1]) : null };
  }

  private encodeCursor(cursor: ListCursor): string {
    return this.pageTokens.encode({ t: cursor.createdAt.getTime(), p: cursor.purchaseId });
  }

  private decodeCursor(token: string): ListCursor {
    const position = this.pageTokens.decode(token);
    if (!position) throw new DomainError(AccountErrorCodes.InvalidPageToken, 'invalid', 'pageToken is not one this api returned; start again without it.');
    return { createdAt: new Date(position.t), purchaseId: position.p };
  }
}
