import { ShopItem } from '@app/contracts';

/** What API.md shows of an item. */
export interface ItemResponse {
  sku: string;
  name: string;
  price: number;
  quantity: number;
}

export function toItemResponse(item: ShopItem): ItemResponse {
  return { sku: item.sku, name: item.name, price: item.price, quantity: item.quantity };
}
