import { PartitionStates } from './partition-states';
import { KeySnapshot } from './stock-events.repository';

const snapshot = (ids: number): KeySnapshot => ({
  existing: new Map(Array.from({ length: ids }, (_, i) => [`e${i}`, { partition: 0, offset: BigInt(i) }])),
  events: new Map(),
});

describe(PartitionStates.name, () => {
  it('keeps at most maxEvents event ids, dropping the least recently used keys first', () => {
    const sut = new PartitionStates(10);
    sut.remember(0, 0, 'a', snapshot(4));
    sut.remember(1, 0, 'b', snapshot(4));
    expect(sut.get(0, 'a')).toBeDefined(); // a is now the most recently used
    sut.remember(0, 0, 'c', snapshot(4));
    expect([sut.get(0, 'a') !== undefined, sut.get(1, 'b') !== undefined, sut.get(0, 'c') !== undefined]).toEqual([true, false, true]);
    expect(sut.eventIds).toBe(8);
  });

  it('counts the ids a kept snapshot gained in place when it is remembered again', () => {
    const sut = new PartitionStates(100);
    const kept = snapshot(3);
    sut.remember(0, 0, 'a', kept);
    kept.existing.set('new', { partition: 0, offset: 9n });
    sut.remember(0, 0, 'a', kept);
    expect(sut.eventIds).toBe(4);
  });

  it('forgets a revoked partition, and refuses what a batch that started before the revocation saw', () => {
    const sut = new PartitionStates(100);
    sut.remember(0, sut.generation(0), 'a', snapshot(2));
    const started = sut.generation(0);
    sut.drop([0]);
    expect(sut.get(0, 'a')).toBeUndefined();
    sut.remember(0, started, 'a', snapshot(2));
    expect({ size: sut.size, ids: sut.eventIds }).toEqual({ size: 0, ids: 0 });
    sut.remember(0, sut.generation(0), 'a', snapshot(2));
    expect(sut.size).toBe(1);
  });
});
