import { DomainError, PurchaseView, ShopItem } from '@app/contracts';
import { CheckedLine, RequestedLine } from '@app/contracts/shop/inventory-grpc';
import type { CatalogService } from '../catalog/catalog.service';
import type { ApiEnv } from '../config/api.env';
import type { CartRepository, StoredCart } from './cart.repository';
import { CartPurchases, CartService } from './cart.service';
import type { InventoryClient } from './inventory.client';

const item = (sku: string, price: number, quantity = 10): ShopItem => ({ sku, name: `Item ${sku}`, price, quantity, priceVersion: 0 });
const view = (purchaseId: string): PurchaseView =>
  ({ purchaseId, status: 'PENDING', sku: 'a', quantity: 1, amount: 0, lines: [], createdAt: '', updatedAt: '' }) as PurchaseView;

function setup(lines: { sku: string; quantity: number }[], catalog: Record<string, ShopItem>, answer: (lines: RequestedLine[]) => CheckedLine[]) {
  const cart: StoredCart = { lines, updatedAt: lines.length ? new Date(0) : null, expiresAt: lines.length ? new Date(1000) : null };
  const carts = {
    read: jest.fn(async () => cart),
    putLine: jest.fn(async () => true),
    removeLines: jest.fn(async () => 1),
    clear: jest.fn(async () => undefined),
  };
  const catalogService = {
    get: jest.fn(async (sku: string) => {
      if (!catalog[sku]) throw new DomainError('ITEM.NOT_FOUND', 'not_found', 'no');
      return catalog[sku];
    }),
  };
  const inventory = { checkLines: jest.fn(async (asked: RequestedLine[]) => answer(asked)) };
  const purchases: CartPurchases = { placeLines: jest.fn(async () => view('p-1')), findByKey: jest.fn(async () => undefined) };
  const env = { cartTtlMs: 1000, SHOP_GRPC_DEADLINE_MS: 500 } as ApiEnv;
  const sut = new CartService(
    carts as unknown as CartRepository,
    catalogService as unknown as CatalogService,
    inventory as unknown as InventoryClient,
    env,
    purchases,
  );
  return { sut, carts, inventory, purchases };
}

/** Shop as it is: the given prices and stock. */
const shopWith =
  (stock: Record<string, { price: number; quantity: number }>) =>
  (asked: RequestedLine[]): CheckedLine[] =>
    asked.map((line) => {
      const found = stock[line.sku];
      if (!found) return { sku: line.sku, ok: false, reason: 'UNKNOWN_SKU', available: 0, price: 0 };
      const reason = line.quantity > found.quantity ? 'INSUFFICIENT_STOCK' : found.price !== line.expectedUnitPrice ? 'PRICE_CHANGED' : '';
      return { sku: line.sku, ok: reason === '', reason, available: found.quantity, price: found.price };
    });

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe(CartService.name, () => {
  it('shows each line at the catalog price, available when the shop holds that many, and the total', async () => {
    const { sut } = setup(
      [
        { sku: 'a', quantity: 2 },
        { sku: 'b', quantity: 5 },
      ],
      { a: item('a', 100), b: item('b', 30, 4) },
      () => [],
    );
    expect(await sut.view('u')).toEqual({
      items: [
        { sku: 'a', name: 'Item a', price: 100, quantity: 2, available: true },
        { sku: 'b', name: 'Item b', price: 30, quantity: 5, available: false },
      ],
      total: 350,
      updatedAt: new Date(0).toISOString(),
      expiresAt: new Date(1000).toISOString(),
    });
  });

  it('refuses a 51st line with CART.FULL and an unknown sku with the catalog’s not_found', async () => {
    const { sut, carts } = setup([], { a: item('a', 1) }, () => []);
    carts.putLine.mockResolvedValueOnce(false);
    expect((await refusal(sut.setLine('u', 'a', 1))).code).toBe('CART.FULL');
    expect((await refusal(sut.setLine('u', 'nope', 1))).kind).toBe('not_found');
  });

  it('an empty cart cannot be checked out', async () => {
    const { sut, inventory } = setup([], {}, () => []);
    expect((await refusal(sut.checkout('u'))).code).toBe('CART.EMPTY');
    expect(inventory.checkLines).not.toHaveBeenCalled();
  });

  it('asks shop about every line at the price shown, and buys at shop’s prices, then removes what it bought', async () => {
    const lines = [
      { sku: 'a', quantity: 2 },
      { sku: 'b', quantity: 1 },
    ];
    const { sut, inventory, purchases, carts } = setup(
      lines,
      { a: item('a', 100), b: item('b', 30) },
      shopWith({ a: { price: 100, quantity: 9 }, b: { price: 30, quantity: 1 } }),
    );
    expect(await sut.checkout('u', 230, 'k')).toMatchObject({ purchaseId: 'p-1' });
    expect(inventory.checkLines).toHaveBeenCalledWith([
      { sku: 'a', quantity: 2, expectedUnitPrice: 100 },
      { sku: 'b', quantity: 1, expectedUnitPrice: 30 },
    ]);
    expect(purchases.placeLines).toHaveBeenCalledWith(
      'u',
      [
        { sku: 'a', quantity: 2, unitPrice: 100 },
        { sku: 'b', quantity: 1, unitPrice: 30 },
      ],
      'k',
    );
    expect(carts.removeLines).toHaveBeenCalledWith('u', lines, 1000);
  });

  it('a line shop cannot supply is a 409 listing it and any line whose price moved, and nothing is bought', async () => {
    const { sut, purchases } = setup(
      [
        { sku: 'a', quantity: 3 },
        { sku: 'b', quantity: 1 },
        { sku: 'gone', quantity: 1 },
      ],
      { a: item('a', 100), b: item('b', 30) },
      shopWith({ a: { price: 100, quantity: 2 }, b: { price: 35, quantity: 5 } }),
    );
    const error = await refusal(sut.checkout('u'));
    expect({ code: error.code, kind: error.kind }).toEqual({ code: 'CART.CHECK_FAILED', kind: 'conflict' });
    expect(error.details).toEqual([
      { sku: 'a', reason: 'INSUFFICIENT_STOCK', available: 2, price: 100 },
      { sku: 'b', reason: 'PRICE_CHANGED', available: 5, price: 35 },
      { sku: 'gone', reason: 'UNKNOWN_SKU' },
    ]);
    expect(purchases.placeLines).not.toHaveBeenCalled();
  });

  it('a price that moved since the cart was shown: bought at shop’s price without expectedTotal, a 409 naming that line with a stale one', async () => {
    const cart = [
      { sku: 'a', quantity: 2 },
      { sku: 'b', quantity: 1 },
    ];
    const shown = { a: item('a', 100), b: item('b', 30) };
    const shop = shopWith({ a: { price: 100, quantity: 9 }, b: { price: 45, quantity: 9 } });
    const { sut, purchases } = setup(cart, shown, shop);
    await sut.checkout('u');
    expect(purchases.placeLines).toHaveBeenCalledWith(
      'u',
      [
        { sku: 'a', quantity: 2, unitPrice: 100 },
        { sku: 'b', quantity: 1, unitPrice: 45 },
      ],
      undefined,
    );
    const stale = setup(cart, shown, shop);
    const error = await refusal(stale.sut.checkout('u', 230));
    expect(error.details).toEqual([{ sku: 'b', reason: 'PRICE_CHANGED', available: 9, price: 45 }]);
    expect(stale.purchases.placeLines).not.toHaveBeenCalled();
    await stale.sut.checkout('u', 245);
    expect(stale.purchases.placeLines).toHaveBeenCalledTimes(1);
  });

  it('an expectedTotal that differs when no price does: every line PRICE_CHANGED with its price, nothing bought', async () => {
    const { sut, purchases } = setup(
      [
        { sku: 'a', quantity: 2 },
        { sku: 'b', quantity: 1 },
      ],
      { a: item('a', 100), b: item('b', 30) },
      shopWith({ a: { price: 100, quantity: 9 }, b: { price: 30, quantity: 9 } }),
    );
    const error = await refusal(sut.checkout('u', 229));
    expect(error.message).toMatch(/229.*230/);
    expect(error.details).toEqual([
      { sku: 'a', reason: 'PRICE_CHANGED', available: 9, price: 100 },
      { sku: 'b', reason: 'PRICE_CHANGED', available: 9, price: 30 },
    ]);
    expect(purchases.placeLines).not.toHaveBeenCalled();
  });

  it('a repeat with the same Idempotency-Key returns the first purchase without looking at the (emptied) cart', async () => {
    const { sut, purchases, carts, inventory } = setup([], {}, () => []);
    (purchases.findByKey as jest.Mock).mockResolvedValueOnce(view('first'));
    expect(await sut.checkout('u', undefined, 'k')).toMatchObject({ purchaseId: 'first' });
    expect(carts.read).not.toHaveBeenCalled();
    expect(inventory.checkLines).not.toHaveBeenCalled();
  });

  it('prices that cannot be read within the deadline are a retryable error, before shop is asked', async () => {
    const { sut, inventory } = setup([{ sku: 'a', quantity: 1 }], {}, () => []);
    const { catalog } = sut as unknown as { catalog: { get: jest.Mock } };
    catalog.get.mockImplementation(() => new Promise(() => undefined));
    const error = await refusal(sut.checkout('u'));
    expect({ code: error.code, retryable: error.retryable }).toEqual({ code: 'CHECKOUT.SHOP_TIMEOUT', retryable: true });
    expect(inventory.checkLines).not.toHaveBeenCalled();
  });
});
