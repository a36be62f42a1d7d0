import { IsISO8601, IsString, Length, Matches } from 'class-validator';
import { SKU_PATTERN } from '../sku';

/** Routing key on `Exchanges.Commerce` of {@link ItemChanged}. */
export const ItemChangedRoutingKey = 'catalog.item-changed';

/**
 * shop → every api instance (each binds its own exclusive queue): an item's quantity or price
 * moved, so cached copies must go. A notification, not a source of truth: losing one only
 * leaves a cache entry until its TTL; the durable price event is PriceChanged on Kafka.
 */
export class ItemChanged {
  @IsString() @Length(1, 64) @Matches(SKU_PATTERN) sku: string;
  @IsISO8601() changedAt: string;
}
