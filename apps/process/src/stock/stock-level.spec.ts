import fc from 'fast-check';
import { advance, levelOf, LevelState, StockMove } from './stock-level';

/** The plain reading of API.md's stock semantics, written independently of the code under test. */
function reference(events: StockMove[]): number {
  const distinct = new Map<string, StockMove>();
  for (const e of events) if (!distinct.has(e.eventId)) distinct.set(e.eventId, e);
  const all = [...distinct.values()];
  const counts = all.filter((e) => e.type === 'count').sort((a, b) => a.at - b.at || (a.eventId < b.eventId ? -1 : 1));
  const latest = counts[counts.length - 1];
  let level = latest ? latest.quantity : 0;
  for (const e of all) {
    if (e.type === 'count' || (latest && e.at <= latest.at)) continue;
    level += e.type === 'sale' ? -e.quantity : e.quantity;
  }
  return level;
}

const move = (id: number): fc.Arbitrary<StockMove> =>
  fc
    .oneof(
      fc.record({ type: fc.constant('delivery' as const), quantity: fc.integer({ min: 1, max: 1000 }) }),
      fc.record({ type: fc.constant('sale' as const), quantity: fc.integer({ min: 1, max: 1000 }) }),
      fc.record({ type: fc.constant('adjustment' as const), quantity: fc.integer({ min: -50, max: 50 }).filter((q) => q !== 0) }),
      fc.record({ type: fc.constant('count' as const), quantity: fc.integer({ min: 0, max: 5000 }) }),
    )
    .chain((body) => fc.integer({ min: 0, max: 20 }).map((at) => ({ ...body, eventId: `e${id}`, at: 1_700_000_000_000 + at * 1000 })));

// Few distinct instants, so ties between counts and movements happen often.
const eventSet = fc.integer({ min: 0, max: 25 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => move(i))));

/** Applies events in the given order, in batches, the way process does: advance, or recompute on a new latest count. */
function applyInBatches(order: StockMove[], batchSizes: number[]): number {
  const stored = new Map<string, StockMove>();
  let state: LevelState = { level: 0 };
  let i = 0;
  let b = 0;
  while (i < order.length) {
    const size = Math.max(1, batchSizes[b++ % batchSizes.length] ?? 1);
    const batch = order.slice(i, i + size);
    i += size;
    const fresh: StockMove[] = [];
    for (const e of batch) {
      if (stored.has(e.eventId) || fresh.some((f) => f.eventId === e.eventId)) continue;
      fresh.push(e);
    }
    const next = advance(state, fresh);
    for (const e of fresh) stored.set(e.eventId, e);
    state = next ?? levelOf(stored.values());
  }
  return state.level;
}

describe('stock level', () => {
  it('levelOf equals the reference for any set of events', () => {
    fc.assert(
      fc.property(eventSet, (events) => levelOf(events).level === reference(events)),
      { numRuns: 2000 },
    );
  });

  it('every order, any duplication and any batching give the reference level', () => {
    fc.assert(
      fc.property(
        eventSet.chain((events) =>
          fc.tuple(
            fc.constant(events),
            // duplicates: any event may be sent again, anywhere
            fc.array(fc.nat(), { maxLength: 10 }),
            fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }),
            fc.nat(),
          ),
        ),
        ([events, dupes, batchSizes, seed]) => {
          const sent = [...events, ...(events.length ? dupes.map((d) => events[d % events.length]) : [])];
          const shuffled = fc.sample(fc.shuffledSubarray(sent, { minLength: sent.length, maxLength: sent.length }), { seed, numRuns: 1 })[0];
          return applyInBatches(shuffled, batchSizes) === reference(events);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a count makes earlier movements irrelevant and later ones still count', () => {
    const t = (s: number) => 1_700_000_000_000 + s * 1000;
    const events: StockMove[] = [
      { eventId: 'd1', type: 'delivery', quantity: 10, at: t(1) },
      { eventId: 'c1', type: 'count', quantity: 4, at: t(2) },
      { eventId: 's1', type: 'sale', quantity: 1, at: t(2) }, // same instant as the count: not later, ignored
      { eventId: 's2', type: 'sale', quantity: 3, at: t(3) },
    ];
    expect(levelOf(events).level).toBe(1);
    expect(levelOf(events.slice().reverse()).level).toBe(1);
  });

  it('may go negative when a sale is recorded before its delivery', () => {
    expect(levelOf([{ eventId: 's', type: 'sale', quantity: 2, at: 1 }]).level).toBe(-2);
  });
});
