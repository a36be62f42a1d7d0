import 'reflect-metadata';
import fc from 'fast-check';
import { validateSync } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { StockEventMessage } from './stock-event.message';
import { decodeMessage } from '../validate-message';
import { decodeStockEvent, validateStockEvent } from './validate-stock-event';

const NOW = Date.parse('2024-06-01T00:00:00Z');

describe(validateStockEvent.name, () => {
  it('accepts a valid event and normalises occurredAt to UTC milliseconds', () => {
    const result = validateStockEvent('store-1', { eventId: 'e1', sku: 'A-1', type: 'count', quantity: 0, occurredAt: '2024-05-01T14:00:00+02:00' }, NOW);
    expect(result).toEqual({ ok: true, event: expect.objectContaining({ storeId: 'store-1', occurredAt: '2024-05-01T12:00:00.000Z' }) });
  });

  it.each([
    [{ type: 'sale', quantity: 0 }, 'quantity must be > 0 for a sale'],
    [{ type: 'delivery', quantity: -1 }, 'quantity must be > 0 for a delivery'],
    [{ type: 'adjustment', quantity: 0 }, 'quantity must not be 0 for an adjustment'],
    [{ type: 'count', quantity: -5 }, 'quantity must be ≥ 0 for a count'],
    [{ quantity: 1.5 }, 'quantity must be an integer'],
    [{ quantity: 1_000_000_001 }, 'quantity must be between -1000000000 and 1000000000'],
    [{ sku: 'a b' }, 'sku must be 1–64 characters of A-Z a-z 0-9 . _ -'],
    [{ eventId: '' }, 'eventId must be a string of 1–128 characters'],
    [{ type: 'gift' }, 'type must be one of delivery, sale, adjustment, count'],
    [{ occurredAt: '2024-05-01' }, 'occurredAt must be an ISO-8601 timestamp with a time zone, e.g. 2024-05-01T12:00:00Z'],
    [{ occurredAt: '2024-06-01T00:06:00Z' }, 'occurredAt must not be more than 5 minutes in the future'],
  ])('rejects %j with "%s"', (patch, message) => {
    const result = validateStockEvent('s', { eventId: 'e', sku: 'A', type: 'delivery', quantity: 1, occurredAt: '2024-05-01T00:00:00Z', ...patch }, NOW);
    expect(result).toMatchObject({ ok: false, errors: [message] });
  });

  it('decodes a Kafka body like decodeMessage, with the reason when it fails', () => {
    expect(decodeStockEvent(Buffer.from('{oops'))).toMatchObject({ ok: false, reason: expect.stringMatching(/^not JSON/) });
    expect(
      decodeStockEvent(
        Buffer.from(JSON.stringify({ storeId: 'bad id', eventId: 'e', sku: 'A', type: 'sale', quantity: 1, occurredAt: '2024-01-01T00:00:00Z' })),
      ),
    ).toMatchObject({
      ok: false,
      reason: expect.stringContaining('storeId must be'),
    });
  });

  it('reads CSV text quantities only when asked to', () => {
    const raw = { eventId: 'e', sku: 'A', type: 'sale', quantity: '3', occurredAt: '2024-05-01T00:00:00Z' };
    expect(validateStockEvent('s', raw, NOW, true).ok).toBe(true);
    expect(validateStockEvent('s', raw, NOW).ok).toBe(false);
  });

  it('accepts exactly what the Kafka contract class accepts (past events)', () => {
    const arbitraryEvent = fc.record({
      eventId: fc.oneof(fc.string({ maxLength: 130 }), fc.constant('')),
      sku: fc.oneof(fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/), fc.string({ maxLength: 70 })),
      type: fc.constantFrom('delivery', 'sale', 'adjustment', 'count', 'other'),
      quantity: fc.oneof(fc.integer({ min: -1_000_000_002, max: 1_000_000_002 }), fc.double(), fc.integer({ min: -3, max: 3 })),
      occurredAt: fc.oneof(
        fc.date({ min: new Date(0), max: new Date(NOW), noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string(),
      ),
    });
    fc.assert(
      fc.property(arbitraryEvent, (raw) => {
        const ours = validateStockEvent('store-1', raw, NOW).ok;
        const theirs = validateSync(plainToInstance(StockEventMessage, { storeId: 'store-1', ...raw })).length === 0;
        const body = Buffer.from(JSON.stringify({ storeId: 'store-1', ...raw }));
        return ours === theirs && decodeStockEvent(body).ok === decodeMessage(StockEventMessage, body).ok;
      }),
      { numRuns: 3000 },
    );
  });
});
