import { StockEventType } from '@app/contracts';

/** One distinct event as the level computation needs it; `at` in epoch milliseconds. */
export interface StockMove {
  eventId: string;
  type: StockEventType;
  quantity: number;
  at: number;
}

export interface CountMark {
  at: number;
  eventId: string;
  quantity: number;
}

/** What is kept per (store, sku) so a level can be moved forward without reading every event. */
export interface LevelState {
  level: number;
  count?: CountMark;
}

/**
 * The latest count wins; two counts at the same instant are ordered by eventId, so the result
 * never depends on arrival order.
 */
export function isLaterCount(a: { at: number; eventId: string }, b: { at: number; eventId: string } | undefined): boolean {
  if (!b) return true;
  return a.at > b.at || (a.at === b.at && a.eventId > b.eventId);
}

export function signedDelta(move: StockMove): number {
  switch (move.type) {
    case 'delivery':
      return move.quantity;
    case 'sale':
      return -move.quantity;
    case 'adjustment':
      return move.quantity;
    default:
      return 0;
  }
}

/** The level from a set of distinct events (API.md "Stock semantics"). */
export function levelOf(events: Iterable<StockMove>): LevelState {
  let count: CountMark | undefined;
  const all: StockMove[] = [];
  for (const e of events) {
    all.push(e);
    if (e.type === 'count' && isLaterCount(e, count)) count = { at: e.at, eventId: e.eventId, quantity: e.quantity };
  }
  let level = count?.quantity ?? 0;
  for (const e of all) if (e.type !== 'count' && (!count || e.at > count.at)) level += signedDelta(e);
  return { level, count };
}

/**
 * Moves `state` forward by events not applied yet. Returns undefined when one of them is a new
 * latest count: then the level is recomputed from the full history, because movements that came
 * before it (already summed) stop counting.
 */
export function advance(state: LevelState, fresh: StockMove[]): LevelState | undefined {
  let level = state.level;
  for (const e of fresh) {
    if (e.type === 'count') {
      if (isLaterCount(e, state.count)) return undefined;
      continue;
    }
    if (!state.count || e.at > state.count.at) level += signedDelta(e);
  }
  return { level, count: state.count };
}
