import {
  IsIn,
  IsInt,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  Validate,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { SKU_WITH_LENGTH_PATTERN } from '../sku';

export const STOCK_EVENT_TYPES = ['delivery', 'sale', 'adjustment', 'count'] as const;
export type StockEventType = (typeof STOCK_EVENT_TYPES)[number];

/** A store id and a sku follow the same rule (libs/contracts/src/sku.ts). */
export const STOCK_SKU_PATTERN = SKU_WITH_LENGTH_PATTERN;
export const MAX_STOCK_QUANTITY = 1_000_000_000;
/** ISO-8601 date-time with a time zone (Z or ±hh:mm), as `Date.parse` reads it reliably. */
export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** The sign rule that depends on the type; `undefined` when the quantity fits the type. */
export function quantityRuleError(type: string, quantity: number): string | undefined {
  if ((type === 'delivery' || type === 'sale') && !(quantity > 0)) return `quantity must be > 0 for a ${type}`;
  if (type === 'adjustment' && quantity === 0) return 'quantity must not be 0 for an adjustment';
  if (type === 'count' && !(quantity >= 0)) return 'quantity must be ≥ 0 for a count';
  return undefined;
}

@ValidatorConstraint({ name: 'quantityMatchesType' })
class QuantityMatchesType implements ValidatorConstraintInterface {
  validate(quantity: unknown, args: ValidationArguments): boolean {
    const type = (args.object as StockEventMessage).type;
    return typeof quantity === 'number' && quantityRuleError(type, quantity) === undefined;
  }
  defaultMessage(args: ValidationArguments): string {
    const event = args.object as StockEventMessage;
    return quantityRuleError(event.type, event.quantity) ?? 'quantity does not fit the type';
  }
}

@ValidatorConstraint({ name: 'isTimestamp' })
class IsTimestamp implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && ISO_TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));
  }
  defaultMessage(): string {
    return 'occurredAt must be an ISO-8601 timestamp with a time zone, e.g. 2024-05-01T12:00:00Z';
  }
}

/**
 * One stock event on `stock.events.v1`, keyed `storeId/sku` so one (store, sku) stays in one
 * partition. Headers: message-id (`storeId/eventId`), correlation-id, schema-version.
 * Ingest normalises `occurredAt` to `Date.toISOString()` (UTC, milliseconds).
 */
export class StockEventMessage {
  @Matches(STOCK_SKU_PATTERN, { message: 'storeId must be 1–64 characters of A-Z a-z 0-9 . _ -' })
  storeId!: string;

  @IsString()
  @Length(1, 128)
  eventId!: string;

  @Matches(STOCK_SKU_PATTERN, { message: 'sku must be 1–64 characters of A-Z a-z 0-9 . _ -' })
  sku!: string;

  @IsIn(STOCK_EVENT_TYPES)
  type!: StockEventType;

  @IsInt()
  @Min(-MAX_STOCK_QUANTITY)
  @Max(MAX_STOCK_QUANTITY)
  @Validate(QuantityMatchesType)
  quantity!: number;

  @Validate(IsTimestamp)
  occurredAt!: string;
}
