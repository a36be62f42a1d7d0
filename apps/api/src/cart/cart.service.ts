import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter } from 'prom-client';
import { DomainError, PurchaseView, ShopErrorCodes, ShopItem } from '@app/contracts';
import { CheckedLine, CheckLineReasons, MAX_CHECK_LINES } from '@app/contracts/shop/inventory-grpc';
import { metricsRegistry } from '@app/observability';
import { CatalogService } from '../catalog/catalog.service';
import { ApiEnv } from '../config/api.env';
import { PurchasesService } from '../purchases/purchases.service';
import { CartErrorCodes, CartErrors, CheckoutProblem } from './cart.errors';
import { CartRepository, StoredLine } from './cart.repository';
import { InventoryClient } from './inventory.client';

/** At most this many lines in a cart (API.md). */
export const MAX_CART_LINES = MAX_CHECK_LINES;

export interface CartItemView {
  sku: string;
  name: string;
  price: number;
  quantity: number;
  available: boolean;
}

export interface CartView {
  items: CartItemView[];
  total: number;
  updatedAt: string | null;
  expiresAt: string | null;
}

/** What checkout needs of the purchases (the saga for several lines at once is theirs). */
export interface CartPurchases {
  placeLines(userId: string, lines: { sku: string; quantity: number; unitPrice: number }[], key?: string): Promise<PurchaseView>;
  findByKey(userId: string, key: string): Promise<PurchaseView | undefined>;
}

const checkouts = new Counter({
  name: 'api_cart_checkouts_total',
  help: 'Cart checkouts by outcome: accepted, repeated (an Idempotency-Key seen before), refused (409), empty (400), shop_timeout and shop_unavailable (503 from the gRPC check), failed (any other error)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

const OUTCOME_BY_CODE: Record<string, string> = {
  [CartErrorCodes.CheckFailed]: 'refused',
  [CartErrorCodes.Empty]: 'empty',
  [CartErrorCodes.ShopTimeout]: 'shop_timeout',
  [CartErrorCodes.ShopUnavailable]: 'shop_unavailable',
};

const isNotFound = (error: unknown) => error instanceof DomainError && error.code === ShopErrorCodes.NotFound;

/**
 * The cart: lines kept in Redis (sku → quantity), everything else read when the cart is shown,
 * from the same catalog as `GET /v1/items/{sku}`. Checkout asks shop over gRPC whether every line
 * can be had at the price shown, then places one purchase for all of them.
 */
@Injectable()
export class CartService {
  private readonly logger = new Logger(CartService.name);

  constructor(
    private readonly carts: CartRepository,
    private readonly catalog: CatalogService,
    private readonly inventory: InventoryClient,
    private readonly env: ApiEnv,
    @Inject(PurchasesService) private readonly purchases: CartPurchases,
  ) {}

  async view(userId: string): Promise<CartView> {
    const cart = await this.carts.read(userId);
    const items = await Promise.all(cart.lines.map((line) => this.itemOrNull(line.sku)));
    const lines = cart.lines.map((line, i) => toItemView(line, items[i]));
    return {
      items: lines,
      total: lines.reduce((sum, line) => sum + line.price * line.quantity, 0),
      updatedAt: cart.updatedAt?.toISOString() ?? null,
      expiresAt: cart.expiresAt?.toISOString() ?? null,
    };
  }

  /** Sets the line's quantity (adds the line); 404 for an unknown sku, 409 for a 51st line. */
  async setLine(userId: string, sku: string, quantity: number): Promise<CartView> {
    await this.catalog.get(sku);
    if (!(await this.carts.putLine(userId, sku, quantity, this.env.cartTtlMs, MAX_CART_LINES))) throw CartErrors.full(MAX_CART_LINES);
    return this.view(userId);
  }

  async removeLine(userId: string, sku: string): Promise<CartView> {
    await this.carts.removeLines(userId, [{ sku }], this.env.cartTtlMs);
    return this.view(userId);
  }

  clear(userId: string): Promise<void> {
    return this.carts.clear(userId);
  }

  /**
   * Checks the cart with shop (every line can be supplied; with `expectedTotal`, that it is the
   * total at shop's prices), then places one purchase at shop's prices
   * and empties the cart of what was bought. With an Idempotency-Key a repeat returns the first
   * purchase (looked up first: the cart is empty by then).
   */
  async checkout(userId: string, expectedTotal?: number, key?: string): Promise<PurchaseView> {
    try {
      const { purchase, repeated } = await this.checkoutOnce(userId, expectedTotal, key);
      checkouts.inc({ outcome: repeated ? 'repeated' : 'accepted' });
      return purchase;
    } catch (error) {
      checkouts.inc({ outcome: (error instanceof DomainError && OUTCOME_BY_CODE[error.code]) || 'failed' });
      throw error;
    }
  }

  private async checkoutOnce(userId: string, expectedTotal?: number, key?: string): Promise<{ purchase: PurchaseView; repeated: boolean }> {
    if (key) {
      const earlier = await this.purchases.findByKey(userId, key);
      if (earlier) return { purchase: earlier, repeated: true };
    }
    const cart = await this.carts.read(userId);
    if (cart.lines.length === 0) throw CartErrors.empty();
    const shown = await this.pricesShown(cart.lines);
    const checked = await this.inventory.checkLines(cart.lines.map((line, i) => ({ sku: line.sku, quantity: line.quantity, expectedUnitPrice: shown[i] })));

    // A price that moved since the cart was shown refuses the checkout only when the client said what
    // it expects to pay (expectedTotal): API.md's 409 is for lines that cannot be supplied, or that total.
    const refused = checked.filter((line) => !line.ok);
    const unsuppliable = refused.filter((line) => line.reason !== CheckLineReasons.PriceChanged).length;
    if (unsuppliable > 0) {
      throw CartErrors.checkFailed(
        `${unsuppliable} line(s) of the cart cannot be supplied as shown (see details); nothing was bought. GET /v1/me/cart shows the current prices and availability.`,
        refused.map(problemOf),
      );
    }
    const total = checked.reduce((sum, line, i) => sum + line.price * cart.lines[i].quantity, 0);
    if (expectedTotal !== undefined && expectedTotal !== total) {
      throw CartErrors.checkFailed(
        `expectedTotal is ${expectedTotal} but the cart costs ${total} at shop's prices now; nothing was bought. Check the prices in details and send the new total.`,
        (refused.length > 0 ? refused : checked).map((line) => ({ sku: line.sku, reason: 'PRICE_CHANGED', available: line.available, price: line.price })),
      );
    }

    const purchase = await this.purchases.placeLines(
      userId,
      cart.lines.map((line, i) => ({ sku: line.sku, quantity: line.quantity, unitPrice: checked[i].price })),
      key,
    );
    // Only what was bought goes: a line changed meanwhile (another device) stays in the cart.
    await this.carts.removeLines(userId, cart.lines, this.env.cartTtlMs).catch((error: Error) => {
      this.logger.warn({ msg: 'purchase placed but the cart could not be emptied', userId, purchaseId: purchase.purchaseId, err: error.message });
    });
    return { purchase, repeated: false };
  }

  /**
   * The unit prices the cart shows now (an unknown sku: 0, and shop will say UNKNOWN_SKU). Bounded
   * like the gRPC call: a shop that does not answer must not hold the checkout for the RPC timeout.
   */
  private async pricesShown(lines: StoredLine[]): Promise<number[]> {
    const deadlineMs = this.env.SHOP_GRPC_DEADLINE_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(CartErrors.shopTimeout(deadlineMs)), deadlineMs);
    });
    try {
      return await Promise.race([Promise.all(lines.map(async (line) => (await this.itemOrNull(line.sku))?.price ?? 0)), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async itemOrNull(sku: string): Promise<ShopItem | null> {
    try {
      return await this.catalog.get(sku);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }
}

/** A line whose sku left the catalog shows as unavailable, at no price, and counts for nothing. */
function toItemView(line: StoredLine, item: ShopItem | null): CartItemView {
  if (!item) return { sku: line.sku, name: line.sku, price: 0, quantity: line.quantity, available: false };
  return { sku: line.sku, name: item.name, price: item.price, quantity: line.quantity, available: item.quantity >= line.quantity };
}

function problemOf(line: CheckedLine): CheckoutProblem {
  if (line.reason === 'UNKNOWN_SKU') return { sku: line.sku, reason: 'UNKNOWN_SKU' };
  return { sku: line.sku, reason: line.reason === '' ? 'PRICE_CHANGED' : line.reason, available: line.available, price: line.price };
}
