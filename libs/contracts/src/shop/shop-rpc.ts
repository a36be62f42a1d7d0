import 'reflect-metadata';
import { Type } from 'class-transformer';
import { SKU_PATTERN } from '../sku';
import { IsArray, IsInt, IsISO8601, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';

/**
 * Queue names of the request/reply operations of the shop app (their contracts: `ShopRpc` in topology.ts).
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
  InvalidSku: 'ITEM.INVALID_SKU',
  Contended: 'ITEM.CONTENDED',
} as const;

/** Prices in cents; a bound keeps them exact as JSON numbers. */
export const MAX_PRICE_CENTS = 1_000_000_000_000;
/** Quantities are Cassandra ints; the bound leaves room for restocks to be rejected cleanly. */
export const MAX_ITEM_QUANTITY = 1_000_000_000;
export const MAX_ITEMS_PAGE = 1000;

/** An item as shop sees it now. `priceVersion` grows by one per price change (0 = never changed). */
export class ShopItem {
  @IsString() @Length(1, 64) sku: string;
  @IsString() @Length(1, 200) name: string;
  @IsInt() @Min(0) price: number;
  @IsInt() @Min(0) quantity: number;
  @IsInt() @Min(0) priceVersion: number;
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
  @IsString() @Length(1, 64) sku: string;
  @IsInt() @Min(0) oldPrice: number;
  @IsInt() @Min(0) newPrice: number;
  @IsInt() @Min(1) version: number;
  @IsISO8601() changedAt: string;
}

export class ListItemsRequest {
  @Type(() => Number) @IsInt() @Min(1) @Max(MAX_ITEMS_PAGE) limit: number;
  @IsOptional() @IsString() @Length(1, 512) pageToken?: string;
}

export class ItemPage {
  @IsArray() @ValidateNested({ each: true }) @Type(() => ShopItem) items: ShopItem[];
  @IsOptional() @IsString() nextPageToken: string | null;
}
