import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { join } from 'node:path';
import type { Observable } from 'rxjs';
import { SKU_PATTERN } from '../sku';
import { MAX_PRICE_CENTS } from './shop-rpc';

/**
 * The gRPC contract between the api and shop (`inventory.proto` beside this file): the names, the
 * loader settings both sides use, and the messages as TypeScript types. The request is validated
 * by shop with the class below, as every message is.
 */
export const InventoryGrpc = {
  package: 'retail.shop.inventory.v1',
  service: 'Inventory',
  methods: { CheckLines: 'CheckLines' },
  protoPath: join(__dirname, 'inventory.proto'),
} as const;

/** Lines one check may hold: a cart's limit. */
export const MAX_CHECK_LINES = 50;
/** Units of one line: a cart line's limit. */
export const MAX_LINE_QUANTITY = 100;

/** Why a line cannot be bought as asked; '' when it can. */
export const CheckLineReasons = {
  UnknownSku: 'UNKNOWN_SKU',
  InsufficientStock: 'INSUFFICIENT_STOCK',
  PriceChanged: 'PRICE_CHANGED',
} as const;
export type CheckLineReason = (typeof CheckLineReasons)[keyof typeof CheckLineReasons];

/**
 * The options of Nest's gRPC transport for this contract (`Transport.GRPC`), the same for shop's
 * server and the api's client: int64 as JS numbers (cents and units stay far below 2^53), field
 * names in camelCase, and default values present (`ok: false`, `reason: ''`).
 */
export function inventoryGrpcOptions(url: string) {
  return {
    package: InventoryGrpc.package,
    protoPath: InventoryGrpc.protoPath,
    url,
    loader: { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true },
  };
}

export class RequestedLine {
  @IsString() @Length(1, 64) @Matches(SKU_PATTERN) sku: string;
  @IsInt() @Min(1) @Max(MAX_LINE_QUANTITY) quantity: number;
  @IsInt() @Min(0) @Max(MAX_PRICE_CENTS) expectedUnitPrice: number;
}

export class CheckLinesRequest {
  @IsArray() @ArrayMaxSize(MAX_CHECK_LINES) @ValidateNested({ each: true }) @Type(() => RequestedLine) lines: RequestedLine[];
}

export interface CheckedLine {
  sku: string;
  ok: boolean;
  reason: CheckLineReason | '';
  available: number;
  price: number;
}

export interface CheckLinesReply {
  lines: CheckedLine[];
}

/** The client side of the Inventory service as Nest's `ClientGrpc.getService` returns it; every call carries a deadline. */
export interface InventoryClientStub {
  checkLines(request: CheckLinesRequest, options: { deadline: number }): Observable<CheckLinesReply>;
}
