import { DomainError, ShopErrorCodes } from '@app/contracts';

/** An item of the catalog, as shop owns it. */
export interface Item {
  sku: string;
  name: string;
  /** Cents. */
  price: number;
  quantity: number;
  /** Grows by one per price change; 0 until the first one. */
  priceVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

export const ItemErrors = {
  notFound: (sku: string) => new DomainError(ShopErrorCodes.NotFound, 'not_found', `No item with sku "${sku}" exists.`),
  exists: (sku: string) =>
    new DomainError(ShopErrorCodes.Exists, 'conflict', `An item with sku "${sku}" already exists; restock it or change its price instead.`),
  quantityTooLarge: (sku: string, current: number, adding: number, max: number) =>
    new DomainError(
      ShopErrorCodes.QuantityTooLarge,
      'invalid',
      `Restocking ${adding} unit(s) of "${sku}" would hold ${current + adding}, above the limit of ${max}.`,
    ),
  invalidPageToken: () =>
    new DomainError(ShopErrorCodes.InvalidPageToken, 'invalid', 'The pageToken is malformed or was altered; use the nextPageToken of the previous page as is.'),
  /** Compare-and-set kept losing to other writers: retryable, the caller tries again later. */
  contended: (sku: string) => new DomainError(ShopErrorCodes.Contended, 'unavailable', `Item "${sku}" is too busy right now; try again.`),
};
