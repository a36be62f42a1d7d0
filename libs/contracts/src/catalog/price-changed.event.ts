import { IsInt, IsISO8601, IsString, Length, Matches, Min } from 'class-validator';
import { SKU_PATTERN } from '../sku';

/**
 * Published once per price change by shop on `catalog.price-changed.v1`, keyed by sku.
 * `version` grows by one per change of that sku: a consumer ignores an event whose version is
 * not newer than the one it has applied, so replays and reordering change nothing.
 */
export class PriceChanged {
  @IsString() @Length(1, 64) @Matches(SKU_PATTERN) sku: string;
  @IsString() @Length(1, 200) name: string;
  @IsInt() @Min(0) oldPrice: number;
  @IsInt() @Min(0) newPrice: number;
  @IsInt() @Min(1) version: number;
  @IsISO8601() changedAt: string;
}
