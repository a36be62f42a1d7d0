import { IsIn, IsInt, IsISO8601, IsString, Length, Max, Min } from 'class-validator';

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

/** account → shop: take `quantity` units of `sku` for this purchase, if that many are left. */
export class ReserveStock {
  @IsString() @Length(1, 64) purchaseId: string;
  @IsString() @Length(1, 64) sku: string;
  @IsInt() @Min(1) @Max(100) quantity: number;
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
