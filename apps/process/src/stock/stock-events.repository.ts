import { Inject, Injectable } from '@nestjs/common';
import { Client, concurrent, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';
import { StockEventType } from '@app/contracts';
import { ProcessEnv } from '../config/process.env';
import { LevelState, StockMove } from './stock-level';

/** Where a row came from: the Kafka partition and offset of the message that first stored it. */
export interface Source {
  partition: number;
  offset: bigint;
}

/** The stored state of one (store, sku) as far as one batch needs it. */
export interface KeySnapshot {
  state?: LevelState & { applied?: Source; updatedAt: Date };
  /** Every event row stored for the key, with the message that stored it. */
  existing: Map<string, Source>;
  /** The same rows as moves, for recomputing the level when a new latest count arrives. */
  events: Map<string, StockMove>;
}

export interface NewEventRow {
  storeId: string;
  sku: string;
  move: StockMove;
  source: Source;
}

export interface LevelRow {
  storeId: string;
  sku: string;
  state: LevelState;
  applied: Source;
  updatedAt: Date;
}

const STATE_ROW = '';
/** New rows of one key written in its state row's batch (well below the 50 KiB batch limit). */
const BATCHED_ROWS = 50;

const Q = {
  load:
    'SELECT event_id, type, quantity, occurred_at, src_partition, src_offset, level, count_at, count_id, applied_partition, applied_offset, updated_at ' +
    'FROM stock_events WHERE store_id = ? AND sku = ?',
  insertEvent: 'INSERT INTO stock_events (store_id, sku, event_id, type, quantity, occurred_at, src_partition, src_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  saveState:
    'INSERT INTO stock_events (store_id, sku, event_id, level, count_at, count_id, quantity, applied_partition, applied_offset, updated_at) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  saveByStore: 'INSERT INTO stock_levels (store_id, sku, quantity, updated_at) VALUES (?, ?, ?, ?)',
};

const long = (value: number | bigint) => types.Long.fromString(String(value));
const toNumber = (value: types.Long | null | undefined) => (value == null ? undefined : value.toNumber());
const toBigint = (value: types.Long | null | undefined) => (value == null ? undefined : BigInt(value.toString()));

/**
 * The write timestamp (microseconds) of a key's state and read-model rows: from the Kafka offset the
 * state has applied, not from a clock. A key's events all come through one partition, in offset
 * order, so a newer state always carries a larger timestamp, and a former owner that resumes after
 * its partition moved (a zombie: frozen past its session, with a stale view) can only write an older
 * or an identical state, which Cassandra ignores or keeps unchanged. Above any clock timestamp
 * (2^52 µs is in 2112), so rows written by earlier versions never win; `epoch` (STOCK_WRITE_EPOCH)
 * is raised when the topic is rebuilt and its offsets start again from 0.
 */
export function fenceTimestamp(epoch: number, offset: bigint): types.Long {
  return types.Long.fromString(String((1n << 52n) + BigInt(epoch) * (1n << 40n) + offset));
}

function stateOf(row: types.Row): NonNullable<KeySnapshot['state']> {
  const countAt = row.get('count_at') as Date | null;
  const appliedOffset = toBigint(row.get('applied_offset'));
  return {
    level: toNumber(row.get('level')) ?? 0,
    count: countAt ? { at: countAt.getTime(), eventId: row.get('count_id') as string, quantity: toNumber(row.get('quantity')) ?? 0 } : undefined,
    applied: appliedOffset === undefined ? undefined : { partition: row.get('applied_partition') as number, offset: appliedOffset },
    updatedAt: row.get('updated_at') as Date,
  };
}

@Injectable()
export class StockEventsRepository {
  private readonly concurrency: number;
  private readonly epoch: number;

  constructor(
    @Inject(CASSANDRA_CLIENT) private readonly client: Client,
    env: ProcessEnv,
  ) {
    this.concurrency = env.CASSANDRA_WRITE_CONCURRENCY;
    this.epoch = env.STOCK_WRITE_EPOCH;
  }

  /**
   * The complete snapshot of each key: its state row and every event row stored for it, with its
   * source (the whole Cassandra partition, paged), `concurrency` keys at a time. Read once per key while
   * its Kafka partition stays assigned (PartitionStates keeps it after that).
   */
  async load(keys: { storeId: string; sku: string }[]): Promise<KeySnapshot[]> {
    const snapshots: KeySnapshot[] = keys.map(() => ({ existing: new Map(), events: new Map() }));
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < keys.length; i = next++) {
        const snapshot = snapshots[i];
        for await (const row of this.rows(Q.load, [keys[i].storeId, keys[i].sku])) {
          const id = row.get('event_id') as string;
          if (id === STATE_ROW) {
            snapshot.state = stateOf(row);
            continue;
          }
          snapshot.existing.set(id, { partition: row.get('src_partition') as number, offset: toBigint(row.get('src_offset')) ?? -1n });
          const at = row.get('occurred_at') as Date | null;
          snapshot.events.set(id, {
            eventId: id,
            type: row.get('type') as StockEventType,
            quantity: toNumber(row.get('quantity')) ?? 0,
            at: at?.getTime() ?? 0,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, keys.length) }, worker));
    return snapshots;
  }

  /**
   * Every row of a query, a page at a time. Pages are read with `execute` and its page state, not
   * with the driver's row stream: on partitions of several thousand rows that stream failed to parse
   * its frames ("offset out of range", cassandra-driver 4.8).
   */
  private async *rows(query: string, params: unknown[]): AsyncGenerator<types.Row> {
    let pageState: string | undefined;
    do {
      const page = await this.client.execute(query, params, { prepare: true, fetchSize: 5000, pageState });
      yield* page.rows;
      pageState = page.pageState ?? undefined;
    } while (pageState);
  }

  /**
   * Per (store, sku): its new event rows and its state row in one single-partition batch (one
   * atomic mutation), then the read model, both stamped with `fenceTimestamp`. A key with very many new rows writes them first, one
   * by one (a batch that large would pass Cassandra's batch size limit), and the batch holds only
   * the state row: rows before state either way, so a crash in between is repaired by redelivery.
   */
  async save(rows: NewEventRow[], levels: LevelRow[]): Promise<void> {
    const rowsByKey = new Map<string, NewEventRow[]>();
    for (const r of rows) {
      const k = `${r.storeId}/${r.sku}`;
      const list = rowsByKey.get(k);
      if (list) list.push(r);
      else rowsByKey.set(k, [r]);
    }
    const large = [...rowsByKey.values()].filter((list) => list.length > BATCHED_ROWS).flat();
    if (large.length > 0) {
      await concurrent.executeConcurrent(this.client, Q.insertEvent, large.map(eventParams), { concurrencyLevel: this.concurrency, raiseOnFirstError: true });
    }
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < levels.length; i = next++) {
        const r = levels[i];
        const own = rowsByKey.get(`${r.storeId}/${r.sku}`) ?? [];
        const quantity = long(r.state.level);
        const statements = [
          ...(own.length <= BATCHED_ROWS ? own.map((e) => ({ query: Q.insertEvent, params: eventParams(e) })) : []),
          {
            query: Q.saveState,
            params: [
              r.storeId,
              r.sku,
              STATE_ROW,
              quantity,
              r.state.count ? new Date(r.state.count.at) : null,
              r.state.count?.eventId ?? null,
              r.state.count ? long(r.state.count.quantity) : null,
              r.applied.partition,
              long(r.applied.offset),
              r.updatedAt,
            ],
          },
        ];
        const timestamp = fenceTimestamp(this.epoch, r.applied.offset);
        await Promise.all([
          statements.length === 1
            ? this.client.execute(statements[0].query, statements[0].params, { prepare: true, timestamp })
            : this.client.batch(statements, { prepare: true, logged: false, timestamp }),
          this.client.execute(Q.saveByStore, [r.storeId, r.sku, quantity, r.updatedAt], { prepare: true, timestamp }),
        ]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, levels.length) }, worker));
  }
}

function eventParams(r: NewEventRow): unknown[] {
  return [r.storeId, r.sku, r.move.eventId, r.move.type, long(r.move.quantity), new Date(r.move.at), r.source.partition, long(r.source.offset)];
}
