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
  /** Rows already stored for the batch's eventIds, with the message that stored each. */
  existing: Map<string, Source>;
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
const IN_CHUNK = 100;
/** New rows of one key written in its state row's batch (well below the 50 KiB batch limit). */
const BATCHED_ROWS = 50;

const Q = {
  snapshot:
    'SELECT event_id, src_partition, src_offset, level, count_at, count_id, applied_partition, applied_offset, updated_at ' +
    'FROM stock_events WHERE store_id = ? AND sku = ? AND event_id IN ?',
  history: 'SELECT event_id, type, quantity, occurred_at, src_partition, src_offset FROM stock_events WHERE store_id = ? AND sku = ?',
  insertEvent: 'INSERT INTO stock_events (store_id, sku, event_id, type, quantity, occurred_at, src_partition, src_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  saveState:
    'INSERT INTO stock_events (store_id, sku, event_id, level, count_at, count_id, quantity, applied_partition, applied_offset, updated_at) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  saveByStore: 'INSERT INTO stock_levels (store_id, sku, quantity, updated_at) VALUES (?, ?, ?, ?)',
};

const long = (value: number | bigint) => types.Long.fromString(String(value));
const toNumber = (value: types.Long | null | undefined) => (value == null ? undefined : value.toNumber());
const toBigint = (value: types.Long | null | undefined) => (value == null ? undefined : BigInt(value.toString()));

@Injectable()
export class StockEventsRepository {
  private readonly concurrency: number;

  constructor(
    @Inject(CASSANDRA_CLIENT) private readonly client: Client,
    env: ProcessEnv,
  ) {
    this.concurrency = env.CASSANDRA_WRITE_CONCURRENCY;
  }

  /** The state row and the already stored rows among `eventIds`, for many keys at once. */
  async snapshots(keys: { storeId: string; sku: string; eventIds: string[] }[]): Promise<KeySnapshot[]> {
    const queries: { query: string; params: unknown[] }[] = [];
    const owner: number[] = [];
    keys.forEach((key, index) => {
      const ids = [STATE_ROW, ...key.eventIds];
      for (let i = 0; i < ids.length; i += IN_CHUNK) {
        queries.push({ query: Q.snapshot, params: [key.storeId, key.sku, ids.slice(i, i + IN_CHUNK)] });
        owner.push(index);
      }
    });
    const result = await concurrent.executeConcurrent(this.client, queries, {
      concurrencyLevel: this.concurrency,
      collectResults: true,
      raiseOnFirstError: true,
      executionProfile: undefined,
    });
    const snapshots: KeySnapshot[] = keys.map(() => ({ existing: new Map() }));
    result.resultItems.forEach((rs, i) => {
      const snapshot = snapshots[owner[i]];
      for (const row of (rs as types.ResultSet).rows) {
        const id = row.get('event_id') as string;
        if (id === STATE_ROW) {
          const countAt = row.get('count_at') as Date | null;
          const appliedOffset = toBigint(row.get('applied_offset'));
          snapshot.state = {
            level: toNumber(row.get('level')) ?? 0,
            count: countAt ? { at: countAt.getTime(), eventId: row.get('count_id') as string, quantity: toNumber(row.get('quantity')) ?? 0 } : undefined,
            applied: appliedOffset === undefined ? undefined : { partition: row.get('applied_partition') as number, offset: appliedOffset },
            updatedAt: row.get('updated_at') as Date,
          };
        } else {
          snapshot.existing.set(id, { partition: row.get('src_partition') as number, offset: toBigint(row.get('src_offset')) ?? -1n });
        }
      }
    });
    return snapshots;
  }

  /** Every stored event of one (store, sku); needed only when a new latest count arrives. */
  async history(storeId: string, sku: string): Promise<(StockMove & { source: Source })[]> {
    const moves: (StockMove & { source: Source })[] = [];
    const rows = this.client.stream(Q.history, [storeId, sku], { prepare: true, fetchSize: 5000 }) as unknown as AsyncIterable<types.Row>;
    for await (const row of rows) {
      const id = row.get('event_id') as string;
      if (id === STATE_ROW) continue;
      moves.push({
        eventId: id,
        type: row.get('type') as StockEventType,
        quantity: toNumber(row.get('quantity')) ?? 0,
        at: (row.get('occurred_at') as Date).getTime(),
        source: { partition: row.get('src_partition') as number, offset: toBigint(row.get('src_offset')) ?? -1n },
      });
    }
    return moves;
  }

  /**
   * Per (store, sku): its new event rows and its state row in one single-partition batch (one
   * atomic mutation), then the read model. A key with very many new rows writes them first, one
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
        await Promise.all([
          statements.length === 1
            ? this.client.execute(statements[0].query, statements[0].params, { prepare: true })
            : this.client.batch(statements, { prepare: true, logged: false }),
          this.client.execute(Q.saveByStore, [r.storeId, r.sku, quantity, r.updatedAt], { prepare: true }),
        ]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, levels.length) }, worker));
  }
}

function eventParams(r: NewEventRow): unknown[] {
  return [r.storeId, r.sku, r.move.eventId, r.move.type, long(r.move.quantity), new Date(r.move.at), r.source.partition, long(r.source.offset)];
}
