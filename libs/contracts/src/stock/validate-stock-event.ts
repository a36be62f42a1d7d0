import { Decoded } from '../validate-message';
import {
  ISO_TIMESTAMP,
  MAX_STOCK_QUANTITY,
  quantityRuleError,
  STOCK_SKU_PATTERN,
  STOCK_EVENT_TYPES,
  StockEventMessage,
  StockEventType,
} from './stock-event.message';

/** How far in the future an event may claim to have happened (clock skew of the stores). */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

export type StockEventCheck = { ok: true; event: StockEventMessage } | { ok: false; eventId?: string; errors: string[] };

const TYPES = new Set<string>(STOCK_EVENT_TYPES);

/**
 * Checks one event as a store sent it (JSON values, or strings from CSV when `fromText`) and
 * lists every problem in words. The same rules as {@link StockEventMessage}, plus "not more than
 * five minutes in the future", which only makes sense at the door; hand-written because it runs
 * for every event of every upload (class-validator is ~10× slower), and a unit test keeps the two in step.
 */
export function validateStockEvent(storeId: string, raw: unknown, now: number, fromText = false): StockEventCheck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, errors: ['an event must be a JSON object'] };
  const r = raw as Record<string, unknown>;
  const errors: string[] = [];
  const eventId = r.eventId;
  const shownId = typeof eventId === 'string' && eventId.length > 0 ? eventId.slice(0, 128) : undefined;

  if (typeof eventId !== 'string' || eventId.length < 1 || eventId.length > 128) errors.push('eventId must be a string of 1–128 characters');
  if (typeof r.sku !== 'string' || !STOCK_SKU_PATTERN.test(r.sku)) errors.push('sku must be 1–64 characters of A-Z a-z 0-9 . _ -');
  const type = r.type;
  const typeOk = typeof type === 'string' && TYPES.has(type);
  if (!typeOk) errors.push(`type must be one of ${STOCK_EVENT_TYPES.join(', ')}`);

  let quantity: number | undefined;
  if (typeof r.quantity === 'number') quantity = r.quantity;
  else if (fromText && typeof r.quantity === 'string' && /^[+-]?\d{1,10}$/.test(r.quantity.trim())) quantity = Number(r.quantity.trim());
  if (quantity === undefined || !Number.isInteger(quantity)) errors.push('quantity must be an integer');
  else if (Math.abs(quantity) > MAX_STOCK_QUANTITY) errors.push('quantity must be between -1000000000 and 1000000000');
  else if (typeOk) {
    const rule = quantityRuleError(type as string, quantity);
    if (rule) errors.push(rule);
  }

  let occurredAt: string | undefined;
  const at = typeof r.occurredAt === 'string' ? r.occurredAt.trim() : undefined;
  const ms = at !== undefined && ISO_TIMESTAMP.test(at) ? Date.parse(at) : NaN;
  if (Number.isNaN(ms)) errors.push('occurredAt must be an ISO-8601 timestamp with a time zone, e.g. 2024-05-01T12:00:00Z');
  else if (ms > now + MAX_FUTURE_SKEW_MS) errors.push('occurredAt must not be more than 5 minutes in the future');
  else occurredAt = new Date(ms).toISOString();

  if (errors.length > 0) return { ok: false, eventId: shownId, errors };
  const event = new StockEventMessage();
  event.storeId = storeId;
  event.eventId = eventId as string;
  event.sku = r.sku as string;
  event.type = type as StockEventType;
  event.quantity = quantity!;
  event.occurredAt = occurredAt!;
  return { ok: true, event };
}

/** The Kafka key: one (store, sku) always lands in the same partition. */
export function stockEventKey(storeId: string, sku: string): string {
  return `${storeId}/${sku}`;
}

/**
 * Decodes a `stock.events.v1` body with the same rules as {@link StockEventMessage} (a unit test
 * keeps them equal), about ten times faster than class-validator; for the consumer's hot path.
 */
export function decodeStockEvent(body: Buffer | null): Decoded<StockEventMessage> {
  if (body === null) return { ok: false, reason: 'empty message body' };
  let plain: unknown;
  try {
    plain = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return { ok: false, reason: 'message body is not a JSON object' };
  const storeId = (plain as { storeId?: unknown }).storeId;
  const errors: string[] = [];
  if (typeof storeId !== 'string' || !STOCK_SKU_PATTERN.test(storeId)) errors.push('storeId must be 1–64 characters of A-Z a-z 0-9 . _ -');
  const checked = validateStockEvent(String(storeId), plain, Number.POSITIVE_INFINITY);
  if (!checked.ok) errors.push(...checked.errors);
  if (errors.length > 0 || !checked.ok) return { ok: false, reason: `invalid StockEventMessage: ${errors.join('; ')}` };
  return { ok: true, value: checked.event };
}
