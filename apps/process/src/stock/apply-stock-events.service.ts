import { Injectable, Logger, Optional } from '@nestjs/common';
import { Counter } from 'prom-client';
import { StockEventMessage } from '@app/contracts';
import { ConsumedMessage } from '@app/messaging';
import { metricsRegistry } from '@app/observability';
import { PartitionStates } from './partition-states';
import { KeySnapshot, LevelRow, NewEventRow, Source, StockEventsRepository } from './stock-events.repository';
import { advance, levelOf, StockMove } from './stock-level';

const stateReads = new Counter({
  name: 'stock_state_reads_total',
  help: 'Keys of a batch whose state process had in memory (hit) or read from Cassandra (miss: first seen since its partition was assigned)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

const eventsApplied = new Counter({
  name: 'stock_events_applied_total',
  help: 'Stock events by outcome: applied (new), duplicate (already counted)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

interface KeyGroup {
  storeId: string;
  sku: string;
  /** First occurrence of each eventId in this batch, in offset order. */
  events: Map<string, { move: StockMove; source: Source }>;
  last: Source;
}

function sameSource(a: Source, b: Source): boolean {
  return a.partition === b.partition && a.offset === b.offset;
}

/**
 * Applies a batch of stock events, idempotently: each eventId counts once per store, whatever the
 * order, however often it arrives, and wherever a crash interrupts. Per (store, sku) of the batch:
 * its snapshot (state row + every stored event id: from memory when this instance has seen the key
 * since its partition was assigned, else one read), new event rows written, then the state row and
 * the read model. A row that exists but was stored by this very message after the last applied
 * offset comes from an attempt that crashed before its state row: it is applied now.
 */
@Injectable()
export class ApplyStockEventsService {
  private readonly logger = new Logger(ApplyStockEventsService.name);

  constructor(
    private readonly repository: StockEventsRepository,
    @Optional() readonly states: PartitionStates = new PartitionStates(0),
  ) {}

  /** The partitions this instance gave up: what it knew of their keys may be stale from now on. */
  revoked(partitions: number[]): void {
    this.states.drop(partitions);
  }

  async applyBatch(messages: ConsumedMessage<StockEventMessage>[], now = new Date()): Promise<void> {
    if (messages.length === 0) return;
    // A batch is one partition's (the transport hands them over per partition).
    const partition = messages[0].partition;
    const generation = this.states.generation(partition);
    try {
      await this.applyPartitionBatch(partition, generation, messages, now);
    } catch (error) {
      // Some rows may be written and others not: read the keys again next time.
      this.states.drop([partition]);
      throw error;
    }
  }

  private async applyPartitionBatch(partition: number, generation: number, messages: ConsumedMessage<StockEventMessage>[], now: Date): Promise<void> {
    const groups = new Map<string, KeyGroup>();
    for (const m of messages) {
      const e = m.value;
      const k = `${e.storeId}/${e.sku}`;
      let group = groups.get(k);
      const source = { partition: m.partition, offset: BigInt(m.offset) };
      if (!group) {
        group = { storeId: e.storeId, sku: e.sku, events: new Map(), last: source };
        groups.set(k, group);
      }
      if (source.partition === group.last.partition && source.offset > group.last.offset) group.last = source;
      if (!group.events.has(e.eventId)) {
        group.events.set(e.eventId, { move: { eventId: e.eventId, type: e.type, quantity: e.quantity, at: Date.parse(e.occurredAt) }, source });
      }
    }
    const keys = [...groups.keys()];
    const list = [...groups.values()];
    const snapshots: (KeySnapshot | undefined)[] = keys.map((key) => this.states.get(partition, key));
    const missing = list.filter((_, i) => snapshots[i] === undefined);
    stateReads.inc({ outcome: 'hit' }, list.length - missing.length);
    stateReads.inc({ outcome: 'miss' }, missing.length);
    if (missing.length > 0) {
      const loaded = await this.repository.load(missing.map((g) => ({ storeId: g.storeId, sku: g.sku })));
      let j = 0;
      for (let i = 0; i < list.length; i++) if (snapshots[i] === undefined) snapshots[i] = loaded[j++];
    }

    // Per key of `list`, in its order: its new event rows and its state.
    const rowsOf: NewEventRow[][] = [];
    const levels: LevelRow[] = [];
    let applied = 0;
    let duplicates = 0;
    list.forEach((group, i) => {
      const { state, existing, events } = snapshots[i]!;
      const rows: NewEventRow[] = [];
      rowsOf.push(rows);
      const fresh: StockMove[] = [];
      for (const { move, source } of group.events.values()) {
        const stored = existing.get(move.eventId);
        const alreadyApplied =
          stored !== undefined && (!sameSource(stored, source) || (state?.applied?.partition === source.partition && source.offset <= state.applied.offset));
        if (alreadyApplied) {
          duplicates++;
          continue;
        }
        fresh.push(move);
        if (!stored) rows.push({ storeId: group.storeId, sku: group.sku, move, source });
      }
      applied += fresh.length;
      // Never move backwards: a replay from an earlier offset must not re-open what was applied.
      const appliedTo =
        state?.applied && state.applied.partition === group.last.partition && state.applied.offset > group.last.offset ? state.applied : group.last;
      const current = { level: state?.level ?? 0, count: state?.count };
      let next = advance(current, fresh);
      if (!next) {
        const all = new Map<string, StockMove>();
        for (const [id, move] of events) {
          // Rows a crashed attempt stored for messages after this batch are not applied yet: they count when their message comes.
          const source = existing.get(id)!;
          if (source.partition === appliedTo.partition && source.offset > appliedTo.offset) continue;
          all.set(id, move);
        }
        for (const move of fresh) if (!all.has(move.eventId)) all.set(move.eventId, move);
        next = levelOf(all.values());
      }
      levels.push({
        storeId: group.storeId,
        sku: group.sku,
        state: next,
        applied: appliedTo,
        updatedAt: fresh.length > 0 || !state ? now : state.updatedAt,
      });
    });
    // Event rows no later than their state row: once it says "applied up to offset N", every row it counted exists.
    await this.repository.save(rowsOf.flat(), levels);
    // Once written, each key's snapshot is what Cassandra now has: its new rows and its new state.
    keys.forEach((key, i) => {
      const snapshot = snapshots[i]!;
      for (const row of rowsOf[i]) {
        snapshot.existing.set(row.move.eventId, row.source);
        snapshot.events.set(row.move.eventId, row.move);
      }
      snapshot.state = { ...levels[i].state, applied: levels[i].applied, updatedAt: levels[i].updatedAt };
      this.states.remember(partition, generation, key, snapshot);
    });
    eventsApplied.inc({ outcome: 'applied' }, applied);
    eventsApplied.inc({ outcome: 'duplicate' }, duplicates);
    this.logger.debug({ msg: 'batch applied', messages: messages.length, keys: list.length, applied, duplicates });
  }
}
