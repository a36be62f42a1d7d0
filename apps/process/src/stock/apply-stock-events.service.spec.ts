import 'reflect-metadata';
import fc from 'fast-check';
import { StockEventMessage } from '@app/contracts';
import { ConsumedMessage } from '@app/messaging';
import { ApplyStockEventsService } from './apply-stock-events.service';
import { KeySnapshot, LevelRow, NewEventRow, Source, StockEventsRepository } from './stock-events.repository';
import { levelOf, StockMove } from './stock-level';

class Crash extends Error {}

/** The repository's contract in memory, with a switch that "kills the process" after N row writes. */
class InMemoryRepository {
  rows = new Map<string, Map<string, StockMove & { source: Source }>>();
  states = new Map<string, LevelRow>();
  writesLeft = Infinity;

  private write(): void {
    if (this.writesLeft-- <= 0) throw new Crash('killed');
  }
  async snapshots(keys: { storeId: string; sku: string; eventIds: string[] }[]): Promise<KeySnapshot[]> {
    return keys.map((k) => {
      const key = `${k.storeId}/${k.sku}`;
      const stored = this.rows.get(key) ?? new Map();
      const state = this.states.get(key);
      return {
        state: state && { ...state.state, applied: state.applied, updatedAt: state.updatedAt },
        existing: new Map(k.eventIds.filter((id) => stored.has(id)).map((id) => [id, stored.get(id)!.source])),
      };
    });
  }
  async history(storeId: string, sku: string) {
    return [...(this.rows.get(`${storeId}/${sku}`)?.values() ?? [])];
  }
  async save(rows: NewEventRow[], levels: LevelRow[]): Promise<void> {
    // a crash may interrupt anywhere, but no state row is written before its key's event rows
    for (const r of rows) {
      this.write();
      const key = `${r.storeId}/${r.sku}`;
      if (!this.rows.has(key)) this.rows.set(key, new Map());
      this.rows.get(key)!.set(r.move.eventId, { ...r.move, source: r.source });
    }
    for (const r of levels) {
      this.write();
      this.states.set(`${r.storeId}/${r.sku}`, r);
    }
  }
}

const event = (id: number) =>
  fc
    .record({
      sku: fc.constantFrom('A', 'B'),
      type: fc.constantFrom('delivery', 'sale', 'adjustment', 'count'),
      quantity: fc.integer({ min: 1, max: 100 }),
      at: fc.integer({ min: 0, max: 10 }),
    })
    .map((e) => ({ ...e, eventId: `e${id}` }));

function message(e: { eventId: string; sku: string; type: string; quantity: number; at: number }, offset: number): ConsumedMessage<StockEventMessage> {
  const value = Object.assign(new StockEventMessage(), {
    storeId: 's1',
    eventId: e.eventId,
    sku: e.sku,
    type: e.type,
    quantity: e.quantity,
    occurredAt: new Date(1_700_000_000_000 + e.at * 1000).toISOString(),
  });
  return { topic: 't', partition: 0, offset: String(offset), key: `s1/${e.sku}`, value, messageId: e.eventId, correlationId: 'c' };
}

import { Logger } from '@nestjs/common';

beforeAll(() => Logger.overrideLogger(false));

describe(ApplyStockEventsService.name, () => {
  it('reaches the reference level whatever the order, duplicates, batching and crashes (then redelivery from the committed offset)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => event(i)))),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 4 }),
        fc.boolean(),
        async (events, dupes, batchSizes, crashes, replay) => {
          const log = [...events, ...dupes.map((d) => events[d % events.length])].map((e, offset) => message(e, offset));
          const repository = new InMemoryRepository();
          const sut = new ApplyStockEventsService(repository as unknown as StockEventsRepository);
          let committed = 0;
          let b = 0;
          const pendingCrashes = [...crashes];
          const consumeAll = async () => {
            while (committed < log.length) {
              const batch = log.slice(committed, committed + batchSizes[b++ % batchSizes.length]);
              repository.writesLeft = pendingCrashes.length > 0 ? pendingCrashes.shift()! : Infinity;
              try {
                await sut.applyBatch(batch);
                committed += batch.length;
              } catch (error) {
                if (!(error instanceof Crash)) throw error;
              }
            }
          };
          await consumeAll();
          if (replay) {
            committed = 0; // the consumer group reset to the earliest offset
            await consumeAll();
          }
          for (const sku of ['A', 'B']) {
            const moves = events
              .filter((e) => e.sku === sku)
              .map((e) => ({ eventId: e.eventId, type: e.type, quantity: e.quantity, at: 1_700_000_000_000 + e.at * 1000 }) as StockMove);
            const expected = levelOf(moves).level;
            const actual = repository.states.get(`s1/${sku}`)?.state.level ?? 0;
            if (actual !== expected) return false;
          }
          return true;
        },
      ),
      { numRuns: 1500 },
    );
  });
});
