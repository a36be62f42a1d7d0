import { KeySnapshot } from './stock-events.repository';

interface Kept {
  partition: number;
  snapshot: KeySnapshot;
  /** The event ids it was counted for (the snapshot may grow in place before it is remembered again). */
  counted: number;
}

/**
 * What this instance knows of the keys of the partitions it owns, so that a batch reads nothing for
 * a key it has seen since the partition was assigned. One consumer owns a partition at a time, and
 * every event of a (store, sku) lands in the same partition, so while the partition stays assigned
 * nobody else writes its keys (a former owner that has not noticed yet is fenced by the write
 * timestamps, see StockEventsRepository). The entries of a partition are dropped when it is revoked;
 * a key's entry is complete: its state and every event row stored for it, with its source.
 * At most `maxEvents` event ids are kept in all; the least recently used keys go first.
 */
export class PartitionStates {
  /** By partition and key, in least recently used order. */
  private readonly kept = new Map<string, Kept>();
  /** Bumped each time a partition is given up: a batch that started before may not store what it saw. */
  private readonly generations = new Map<number, number>();
  private events = 0;

  constructor(private readonly maxEvents: number) {}

  /** The partition's generation now; pass it back to `remember` so that a revocation in between wins. */
  generation(partition: number): number {
    return this.generations.get(partition) ?? 0;
  }

  /** The complete snapshot of a key, if this instance has it. */
  get(partition: number, key: string): KeySnapshot | undefined {
    const id = `${partition}|${key}`;
    const kept = this.kept.get(id);
    if (!kept) return undefined;
    this.kept.delete(id);
    this.kept.set(id, kept);
    return kept.snapshot;
  }

  /** Keeps a key's snapshot as written, unless the partition was revoked since `generation`. */
  remember(partition: number, generation: number, key: string, snapshot: KeySnapshot): void {
    if (this.generation(partition) !== generation) return;
    const id = `${partition}|${key}`;
    const before = this.kept.get(id);
    if (before) {
      this.events -= before.counted;
      this.kept.delete(id);
    }
    this.kept.set(id, { partition, snapshot, counted: snapshot.existing.size });
    this.events += snapshot.existing.size;
    for (const [oldest, kept] of this.kept) {
      if (this.events <= this.maxEvents) break;
      this.events -= kept.counted;
      this.kept.delete(oldest);
    }
  }

  /** Forgets the partitions (revoked, or a batch of theirs failed); batches under way will not store theirs. */
  drop(partitions: number[]): void {
    const dropped = new Set(partitions);
    for (const partition of dropped) this.generations.set(partition, this.generation(partition) + 1);
    for (const [id, kept] of this.kept) {
      if (!dropped.has(kept.partition)) continue;
      this.events -= kept.counted;
      this.kept.delete(id);
    }
  }

  /** Event ids kept, over every partition. */
  get eventIds(): number {
    return this.events;
  }

  /** Keys kept, over every partition. */
  get size(): number {
    return this.kept.size;
  }
}
