/**
 * The "fold limit" for the process benchmark: the least a consumer can do and still keep durable
 * stock levels with the product's semantics. kafkajs `eachBatch` (the raw loop's fetch settings),
 * JSON.parse per record, an in-memory fold per (store, sku) with process's own level functions
 * (apps/process/src/stock/stock-level.ts), each eventId counted once, then per batch one state upsert
 * and one read-model upsert per touched key (executeConcurrent, 128), and the offset committed after.
 *
 * What a key keeps: its level, its latest count, and the events after that count (only those can
 * still move the level, and only their eventIds need remembering: an older event does not count
 * whether it is a duplicate or not). A new latest count recomputes the level from those events,
 * as process does from the stored history. Unlike process it reads nothing from Cassandra (the state
 * lives in memory for the run) and stores no event rows.
 */
import { Client, concurrent } from 'cassandra-driver';
import { Consumer, Kafka } from 'kafkajs';
import { advance, CountMark, levelOf, StockMove } from '../../apps/process/src/stock/stock-level';

interface StockEvent {
  storeId: string;
  eventId: string;
  sku: string;
  type: StockMove['type'];
  quantity: number;
  occurredAt: string;
}

interface KeyState {
  storeId: string;
  sku: string;
  level: number;
  count?: CountMark;
  /** The distinct non-count events after the latest count (all of them while there is none), by eventId. */
  tail: Map<string, StockMove>;
}

export const FOLD_TABLES = [
  'CREATE TABLE IF NOT EXISTS stock.bench_fold_state (store_id text, sku text, level bigint, count_at timestamp, count_id text, count_qty bigint, tail set<text>, PRIMARY KEY ((store_id, sku)))',
  'CREATE TABLE IF NOT EXISTS stock.bench_fold_levels (store_id text, sku text, quantity bigint, updated_at timestamp, PRIMARY KEY ((store_id), sku))',
];

const Q = {
  state: 'INSERT INTO bench_fold_state (store_id, sku, level, count_at, count_id, count_qty, tail) VALUES (?, ?, ?, ?, ?, ?, ?)',
  level: 'INSERT INTO bench_fold_levels (store_id, sku, quantity, updated_at) VALUES (?, ?, ?, ?)',
};

/** Moves one key forward by the events of a batch (`advance`, or `levelOf` when one of them is a new latest count). */
export function fold(state: KeyState, moves: StockMove[]): void {
  const fresh: StockMove[] = [];
  const seen = new Set<string>();
  for (const move of moves) {
    if (seen.has(move.eventId) || state.tail.has(move.eventId)) continue; // counted already
    seen.add(move.eventId);
    fresh.push(move);
  }
  if (fresh.length === 0) return;
  const before = state.count;
  // A new latest count: the level from it and the events after it, which are all in the tail or fresh.
  const next = advance(state, fresh) ?? levelOf([...state.tail.values(), ...fresh]);
  state.level = next.level;
  state.count = next.count;
  const count = next.count;
  for (const move of fresh) if (move.type !== 'count' && (!count || move.at > count.at)) state.tail.set(move.eventId, move);
  if (count && count !== before) for (const [id, move] of state.tail) if (!(move.at > count.at)) state.tail.delete(id);
}

/** Starts the fold loop on `topic` (from the beginning) in group `group`; measure it by its commits, then disconnect. */
export async function startFoldLoop(kafka: Kafka, cassandra: Client, topic: string, group: string): Promise<Consumer> {
  const keys = new Map<string, KeyState>();
  const consumer = kafka.consumer({ groupId: group, maxBytesPerPartition: 4 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch, resolveOffset }) => {
      if (batch.messages.length === 0) return;
      const touched = new Map<KeyState, StockMove[]>();
      for (const m of batch.messages) {
        const e = JSON.parse(m.value!.toString()) as StockEvent;
        const k = `${e.storeId}/${e.sku}`;
        let state = keys.get(k);
        if (!state) {
          state = { storeId: e.storeId, sku: e.sku, level: 0, tail: new Map() };
          keys.set(k, state);
        }
        const move: StockMove = { eventId: e.eventId, type: e.type, quantity: e.quantity, at: Date.parse(e.occurredAt) };
        const moves = touched.get(state);
        if (moves) moves.push(move);
        else touched.set(state, [move]);
      }
      const now = new Date();
      const writes: { query: string; params: unknown[] }[] = [];
      for (const [state, moves] of touched) {
        fold(state, moves);
        const c = state.count;
        writes.push(
          {
            query: Q.state,
            params: [state.storeId, state.sku, state.level, c ? new Date(c.at) : null, c?.eventId ?? null, c?.quantity ?? null, [...state.tail.keys()]],
          },
          { query: Q.level, params: [state.storeId, state.sku, state.level, now] },
        );
      }
      await concurrent.executeConcurrent(cassandra, writes, { concurrencyLevel: 128, raiseOnFirstError: true });
      const lastOffset = batch.messages[batch.messages.length - 1].offset;
      resolveOffset(lastOffset);
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(lastOffset) + 1) }]);
    },
  });
  return consumer;
}
