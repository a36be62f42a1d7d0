import 'reflect-metadata';
import fc from 'fast-check';
import { StockEventMessage } from '@app/contracts';
import { ConsumedMessage } from '@app/messaging';
import { ApplyStockEventsService } from './apply-stock-events.service';
import { PartitionStates } from './partition-states';
import { KeySnapshot, LevelRow, NewEventRow, Source, StockEventsRepository } from './stock-events.repository';
import { levelOf, StockMove } from './stock-level';

class Crash extends Error {}

/**
 * The repository's contract in memory, with a switch that "kills the process" after N row writes.
 * State rows keep the write with the larger timestamp (the applied offset, as `fenceTimestamp`
 * stamps them in Cassandra; the repository's integration test shows Cassandra doing so).
 */
class InMemoryRepository {
  rows = new Map<string, Map<string, StockMove & { source: Source }>>();
  states = new Map<string, LevelRow>();
  writesLeft = Infinity;
  loads = 0;

  private write(): void {
    if (this.writesLeft-- <= 0) throw new Crash('killed');
  }
  async load(keys: { storeId: string; sku: string }[]): Promise<KeySnapshot[]> {
    this.loads += keys.length;
    return keys.map((k) => {
      const key = `${k.storeId}/${k.sku}`;
      const stored = this.rows.get(key) ?? new Map<string, StockMove & { source: Source }>();
      const state = this.states.get(key);
      return {
        state: state && { ...state.state, applied: state.applied, updatedAt: state.updatedAt },
        existing: new Map([...stored].map(([id, row]) => [id, row.source])),
        events: new Map([...stored].map(([id, { source: _source, ...move }]) => [id, move])),
      };
    });
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
      const key = `${r.storeId}/${r.sku}`;
      const before = this.states.get(key);
      if (!before || r.applied.offset >= before.applied.offset) this.states.set(key, r);
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
  it('reaches the reference level whatever the order, duplicates, batching and crashes (then redelivery from the committed offset, to the same instance or a new one)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => event(i)))),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        async (events, dupes, batchSizes, crashes, replay, restartOnCrash) => {
          const log = [...events, ...dupes.map((d) => events[d % events.length])].map((e, offset) => message(e, offset));
          const repository = new InMemoryRepository();
          const service = () => new ApplyStockEventsService(repository as unknown as StockEventsRepository, new PartitionStates(1_000));
          let sut = service();
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
                // The handler failed and its batch comes again: to the same instance, or to a fresh one (the process was killed).
                if (restartOnCrash) sut = service();
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

  it('a former owner that resumes with its stale memory (a zombie) cannot undo what the new owner wrote', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 24 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => event(i)))),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        async (events, batchSize, frozenAt, committedBack, zombieLength) => {
          const log = events.map((e, offset) => message(e, offset));
          const repository = new InMemoryRepository();
          const owner = () => new ApplyStockEventsService(repository as unknown as StockEventsRepository, new PartitionStates(1_000));
          // A applies the log up to `frozen` (its last commits may not have reached Kafka), then freezes.
          const a = owner();
          const frozen = frozenAt % log.length;
          for (let i = 0; i < frozen; i += batchSize) await a.applyBatch(log.slice(i, Math.min(i + batchSize, frozen)));
          // B is given the partition and goes on from the last commit Kafka has, to the end.
          const b = owner();
          for (let i = frozen - (committedBack % (frozen + 1)); i < log.length; i += batchSize) await b.applyBatch(log.slice(i, i + batchSize));
          // A resumes, not knowing yet, and writes the batch it held, from its stale memory.
          await a.applyBatch(log.slice(frozen, frozen + 1 + (zombieLength % batchSize)));
          for (const sku of ['A', 'B']) {
            const moves = events
              .filter((e) => e.sku === sku)
              .map((e) => ({ eventId: e.eventId, type: e.type, quantity: e.quantity, at: 1_700_000_000_000 + e.at * 1000 }) as StockMove);
            if ((repository.states.get(`s1/${sku}`)?.state.level ?? 0) !== levelOf(moves).level) return false;
          }
          return true;
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('reads a key once while its partition stays assigned, and again after the partition was revoked', async () => {
    const repository = new InMemoryRepository();
    const sut = new ApplyStockEventsService(repository as unknown as StockEventsRepository, new PartitionStates(1_000));
    const events = [0, 1, 2, 3].map((i) => ({ eventId: `e${i}`, sku: 'A', type: 'delivery', quantity: 1, at: i }));
    await sut.applyBatch([message(events[0], 0)]);
    await sut.applyBatch([message(events[1], 1)]);
    expect(repository.loads).toBe(1);
    sut.revoked([0]);
    await sut.applyBatch([message(events[2], 2), message(events[1], 1)]);
    expect(repository.loads).toBe(2);
    expect(repository.states.get('s1/A')?.state.level).toBe(3);
  });

  it('does not keep what a batch saw when its partition was revoked while it ran', async () => {
    const repository = new InMemoryRepository();
    const states = new PartitionStates(1_000);
    const sut = new ApplyStockEventsService(repository as unknown as StockEventsRepository, states);
    const save = repository.save.bind(repository);
    repository.save = async (rows, levels) => {
      sut.revoked([0]); // the rebalance starts while the batch writes
      await save(rows, levels);
    };
    await sut.applyBatch([message({ eventId: 'e1', sku: 'A', type: 'delivery', quantity: 5, at: 1 }, 0)]);
    expect(states.size).toBe(0);
  });
});
