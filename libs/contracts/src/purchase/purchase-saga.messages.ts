import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min, ValidateNested } from 'class-validator';

/**
 * The purchase saga between account and shop (choreography over the `commerce.v1` topic
 * exchange). Account drives it: it debits, asks shop to reserve, and on no answer within its
 * deadline asks shop to void the reservation, which shop answers whatever state it is in.
 * Shop keeps one reservation row per purchaseId, so every command is idempotent.
 */
export const SagaRoutingKeys = {
  ReserveStock: 'shop.reserve-stock',
  VoidReservation: 'shop.void-reservation',
  StockReserved: 'account.stock-reserved',
  StockReservationFailed: 'account.stock-reservation-failed',
  ReservationVoided: 'account.reservation-voided',
} as const;

export const SagaQueues = {
  /** Shop's inbox: ReserveStock and VoidReservation. */
  Shop: 'shop.saga',
  /** Account's inbox: the replies of shop. */
  Account: 'account.saga',
} as const;

/** One sku of a purchase and its units (a cart purchase has several, each sku once). */
export class SagaLine {
  @IsString() @Length(1, 64) sku: string;
  @IsInt() @Min(1) @Max(100) quantity: number;
}

/** At most as many lines as a cart holds. */
const MAX_SAGA_LINES = 50;

/**
 * account → shop: take `quantity` units of `sku` for this purchase, if that many are left; with
 * `lines`, every line or none (`sku` and `quantity` are then the first line's).
 */
export class ReserveStock {
  @IsString() @Length(1, 64) purchaseId: string;
  @IsString() @Length(1, 64) sku: string;
  @IsInt() @Min(1) @Max(100) quantity: number;
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_SAGA_LINES) @ValidateNested({ each: true }) @Type(() => SagaLine) lines?: SagaLine[];
  @IsISO8601() requestedAt: string;
}

/**
 * account → shop: the purchase is being abandoned (no answer in time). Shop returns the units
 * if it had reserved them, and refuses any later ReserveStock for this purchase.
 */
export class VoidReservation {
  @IsString() @Length(1, 64) purchaseId: string;
  @IsString() @Length(1, 64) sku: string;
  @IsInt() @Min(1) @Max(100) quantity: number;
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_SAGA_LINES) @ValidateNested({ each: true }) @Type(() => SagaLine) lines?: SagaLine[];
}

/** shop → account: the units are taken. */
export class StockReserved {
  @IsString() @Length(1, 64) purchaseId: string;
  @IsString() @Length(1, 64) sku: string;
  @IsInt() @Min(1) quantity: number;
}

/** shop → account: the units could not be taken; `reason` is for the buyer. */
export class StockReservationFailed {
  @IsString() @Length(1, 64) purchaseId: string;
  @IsIn(['OUT_OF_STOCK', 'UNKNOWN_SKU', 'VOIDED']) code: 'OUT_OF_STOCK' | 'UNKNOWN_SKU' | 'VOIDED';
  @IsString() @Length(1, 500) reason: string;
}

/** shop → account: the reservation is void and no units are held for it any more. */
export class ReservationVoided {
  @IsString() @Length(1, 64) purchaseId: string;
}
