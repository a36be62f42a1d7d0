/**
 * One stock event as ingest writes it to Kafka, built the same way (apps/ingest/src/stock-events/
 * ingest-stock-events.service.ts, then libs/messaging/src/kafka/kafka-publisher.ts): the contract's
 * hand-written validation, key `storeId/sku`, the validated event as JSON, and the headers message-id,
 * correlation-id and schema-version. Used by the ingest floor and for the bytes per record of the bench.
 */
import { MessageHeaders } from '../../libs/contracts/src/names';
import { StockEventCheck, stockEventKey, validateStockEvent } from '../../libs/contracts/src/stock/validate-stock-event';

/** `KafkaPublisher`'s default `schema-version` (ingest sets no other). */
const SCHEMA_VERSION = '1';

export interface StockRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** The record ingest writes for one valid event, or the check's errors. */
export function stockRecord(
  storeId: string,
  raw: unknown,
  correlationId: string,
  now: number,
): { ok: true; record: StockRecord } | Extract<StockEventCheck, { ok: false }> {
  const checked = validateStockEvent(storeId, raw, now, false);
  if (!checked.ok) return checked;
  const event = checked.event;
  return {
    ok: true,
    record: {
      key: stockEventKey(storeId, event.sku),
      value: JSON.stringify(event),
      headers: {
        [MessageHeaders.MessageId]: `${storeId}/${event.eventId}`,
        [MessageHeaders.CorrelationId]: correlationId,
        [MessageHeaders.SchemaVersion]: SCHEMA_VERSION,
      },
    },
  };
}

/** Bytes of key + value + header names and values (what a record carries, without Kafka's framing). */
export function recordBytes(record: StockRecord): number {
  let bytes = Buffer.byteLength(record.key) + Buffer.byteLength(record.value);
  for (const [name, value] of Object.entries(record.headers)) bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}
