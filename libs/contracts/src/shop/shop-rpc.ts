import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';

/**
 * Request/reply operations of the shop app (RabbitMQ RPC via `RabbitRpcClient.request`).
 * Errors come back as DomainErrors with the codes in `ShopErrorCodes`.
 */
export const ShopRpcQueues = {
  /** GetItemRequest → ShopItem; ITEM.NOT_FOUND (not_found) for an unknown sku. */
  GetItem: 'shop.rpc.get-item',
  /** CreateItemRequest → ShopItem; ITEM.EXISTS (conflict) if the sku exists. */
  CreateItem: 'shop.rpc.create-item',
  /** RestockItemRequest → ShopItem; ITEM.NOT_FOUND, ITEM.QUANTITY_TOO_LARGE (invalid). */
  RestockItem: 'shop.rpc.restock-item',
  /** ChangePriceRequest → PriceChangeAccepted; ITEM.NOT_FOUND. Published to Kafka by shop's outbox. */
  ChangePrice: 'shop.rpc.change-price',
  /** ListItemsRequest → ItemPage (ordered by the sku's token; pageToken opaque); ITEM.INVALID_PAGE_TOKEN. */
  ListItems: 'shop.rpc.list-items',
} as const;

export const ShopErrorCodes = {
  NotFound: 'ITEM.NOT_FOUND',
  Exists: 'ITEM.EXISTS',
  QuantityTooLarge: 'ITEM.QUANTITY_TOO_LARGE',
  InvalidPageToken: 'ITEM.INVALID_PAGE_TOKEN',
} as const;

export const SKU_PATTERN = /^[A-Za-z0-9._-]+$/;
/** Prices in cents; a bound keeps them exact as JSON numbers. */
export const MAX_PRICE_CENTS = 1_000_000_000_000;
/** Quantities are Cassandra ints; the bound leaves room for restocks to be rejected cleanly. */
export const MAX_ITEM_QUANTITY = 1_000_000_000;
export const MAX_ITEMS_PAGE = 1000;

/** An item as shop sees it now. `priceVersion` grows by one per price change (0 = never changed). */
export class ShopItem {
  sku: string;
  name: string;
  price: number;
  quantity: number;
  priceVersion: number;
}

export class GetItemRequest {
  @IsString() @Length(1, 64) @Matches(SKU_PATTERN) sku: string;
}

export class CreateItemRequest {
  @IsString() @Length(1, 64) @Matches(SKU_PATTERN) sku: string;
  @IsString() @Length(1, 200) name: string;
  @Type(() => Number) @IsInt() @Min(0) @Max(MAX_PRICE_CENTS) price: number;
  @Type(() => Number) @IsInt() @Min(0) @Max(MAX_ITEM_QUANTITY) quantity: number;
}

export class RestockItemRequest {
  @IsString() @Length(1, 64) @Matches(SKU_PATTERN) sku: string;
  @Type(() => Number) @IsInt() @Min(1) @Max(MAX_ITEM_QUANTITY) quantity: number;
}

export class ChangePriceRequest {
  @IsString() @Length(1, 64) @Matches(SKU_PATTERN) sku: string;
  @Type(() => Number) @IsInt() @Min(0) @Max(MAX_PRICE_CENTS) price: number;
}

/** The change is recorded; its PriceChanged event (same version) is on its way to Kafka. */
export class PriceChangeAccepted {
  sku: string;
  oldPrice: number;
  newPrice: number;
  version: number;
  changedAt: string;
}

export class ListItemsRequest {
  @Type(() => Number) @IsInt() @Min(1) @Max(MAX_ITEMS_PAGE) limit: number;
  @IsOptional() @IsString() @Length(1, 512) pageToken?: string;
}

export class ItemPage {
  items: ShopItem[];
  nextPageToken: string | null;
}
