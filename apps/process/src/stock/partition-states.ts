import { KeySnapshot } from './stock-events.repository';

interface PartitionEntry {
  /** Bumped each time the partition is given up: a batch that started before may not store what it saw. */
  generation: number;
  /** Per (store, sku): its state row and every event row stored for it, in least recently used order. */
  keys: Map<string, KeySnapshot>;
}

/**
 * What this instance knows of the keys of the partitions it owns, so that a batch reads nothing for
 * a key it has seen since the partition was assigned. One consumer owns a partition at a time, and
 * every event of a (store, sku) lands in the same partition, so while the partition stays assigned
 * nobody else writes its keys (a former owner that has not noticed yet is fenced by the write
 * timestamps, see StockEventsRepository). The entries of a partition are dropped when it is revoked;
 * a key's entry is complete: its state and the source of every event row stored for it.
 * At most `maxEvents` event ids are kept in all; the least recently used keys go first.
 */
export class PartitionStates {
  private readonly partitions = new Map<number, PartitionEntry>();
  private events = 0;

  constructor(private readonly maxEvents: number) {}

  /** The partition's generation now; pass it back to `remember` so that a revocation in between wins. */
  generation(partition: number): number {
    return this.entry(partition).generation;
  }

  /** The complete snapshot of a key, if this instance has it. */
  get(partition: number, key: string): KeySnapshot | undefined {
    const keys = this.partitions.get(partition)?.keys;
    const snapshot = keys?.get(key);
    if (snapshot) {
      keys!.delete(key);
      keys!.set(key, snapshot);
    }
    return snapshot;
  }

  /** Keeps a key's snapshot as written, unless the partition was revoked since `generation`. */
  remember(partition: number, generation: number, key: string, snapshot: KeySnapshot): void {
    const entry = this.entry(partition);
    if (entry.generation !== generation) return;
    const before = entry.keys.get(key);
    if (before) {
      this.events -= before.existing.size;
      entry.keys.delete(key);
    }
    entry.keys.set(key, snapshot);
    this.events += snapshot.existing.size;
    this.evict();
  }

  /** Forgets the partitions (revoked, or a batch of theirs failed); batches under way will not store theirs. */
  drop(partitions: number[]): void {
    for (const partition of partitions) {
      const entry = this.entry(partition);
      for (const snapshot of entry.keys.values()) this.events -= snapshot.existing.size;
      entry.keys.clear();
      entry.generation++;
    }
  }

  /** Keys known, over every partition (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const entry of this.partitions.values()) n += entry.keys.size;
    return n;
  }

  private entry(partition: number): PartitionEntry {
    let entry = this.partitions.get(partition);
    if (!entry) {
      entry = { generation: 0, keys: new Map() };
      this.partitions.set(partition, entry);
    }
    return entry;
  }

  /** Least recently used keys first, across partitions, until the ids kept are within the cap. */
  private evict(): void {
    while (this.events > this.maxEvents) {
      let evicted = false;
      for (const entry of this.partitions.values()) {
        const oldest = entry.keys.entries().next();
        if (oldest.done) continue;
        this.events -= oldest.value[1].existing.size;
        entry.keys.delete(oldest.value[0]);
        evicted = true;
        if (this.events <= this.maxEvents) return;
      }
      if (!evicted) return;
    }
  }
}
