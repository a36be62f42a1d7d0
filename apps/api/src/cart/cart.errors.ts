import { DomainError } from '@app/contracts';

export const CartErrorCodes = {
  Full: 'CART.FULL',
  Empty: 'CART.EMPTY',
  CheckFailed: 'CART.CHECK_FAILED',
  StoreUnavailable: 'CART.STORE_UNAVAILABLE',
  ShopTimeout: 'CHECKOUT.SHOP_TIMEOUT',
  ShopUnavailable: 'CHECKOUT.SHOP_UNAVAILABLE',
} as const;

/** One line of a refused checkout (API.md, Cart): why, and what shop has now when the sku exists. */
export interface CheckoutProblem {
  sku: string;
  reason: 'UNKNOWN_SKU' | 'INSUFFICIENT_STOCK' | 'PRICE_CHANGED';
  available?: number;
  price?: number;
}

export const CartErrors = {
  full: (max: number) =>
    new DomainError(
      CartErrorCodes.Full,
      'conflict',
      `The cart already holds ${max} lines, the most it can; remove a line (DELETE /v1/me/cart/items/{sku}) or change the quantity of one it holds.`,
    ),
  empty: () => new DomainError(CartErrorCodes.Empty, 'invalid', 'The cart is empty; add items with PUT /v1/me/cart/items/{sku} before checking out.'),
  checkFailed: (message: string, details: CheckoutProblem[]) => new DomainError(CartErrorCodes.CheckFailed, 'conflict', message, details),
  storeUnavailable: () =>
    new DomainError(
      CartErrorCodes.StoreUnavailable,
      'unavailable',
      'The cart cannot be read or changed right now (its store is unavailable); try again shortly.',
    ),
  shopTimeout: (ms: number) =>
    new DomainError(
      CartErrorCodes.ShopTimeout,
      'unavailable',
      `shop did not answer the inventory check within ${ms} ms; nothing was bought. Try again shortly.`,
    ),
  shopUnavailable: () =>
    new DomainError(
      CartErrorCodes.ShopUnavailable,
      'unavailable',
      'shop cannot be reached for the inventory check right now; nothing was bought. Try again shortly.',
    ),
};
