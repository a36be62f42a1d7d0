import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { metricsRegistry } from '@app/observability';

interface Open {
  /** Epoch ms: the purchase's creation when `exact`, else when this instance first saw it open. */
  since: number;
  exact: boolean;
}

/**
 * The purchases not finished yet, as this instance knows them, for `purchases_oldest_pending_seconds`.
 * The sweeper reads every open marker on each pass (it does anyway, to find the due ones), so the set
 * is the system's, not just this instance's. Ages come from the purchases' creation times where this
 * instance read or wrote them (it placed the purchase, or swept it: every open purchase becomes due
 * within one retry interval), and until then from when this instance first saw the marker, a lower
 * bound. Costs no read of its own.
 */
@Injectable()
export class OpenPurchaseAges {
  private readonly open = new Map<string, Open>();

  /** One sweep pass: every open marker. Forgets purchases no longer open. */
  observe(openIds: Iterable<string>, now: number): void {
    const seen = new Set(openIds);
    for (const id of this.open.keys()) if (!seen.has(id)) this.open.delete(id);
    for (const id of seen) if (!this.open.has(id)) this.open.set(id, { since: now, exact: false });
  }

  /** The creation time of an open purchase, read from the purchase itself. */
  created(purchaseId: string, createdAt: Date): void {
    this.open.set(purchaseId, { since: createdAt.getTime(), exact: true });
  }

  /** It reached a terminal status here: not pending any more, whatever the next pass finds. */
  finished(purchaseId: string): void {
    this.open.delete(purchaseId);
  }

  /** Seconds since the oldest open purchase was created (0 when none is open). */
  oldestAgeSeconds(now: number): number {
    let oldest = now;
    for (const { since } of this.open.values()) if (since < oldest) oldest = since;
    return Math.max(0, (now - oldest) / 1000);
  }

  get size(): number {
    return this.open.size;
  }
}

let source: OpenPurchaseAges | undefined;

/** Reports `ages` (the last one given) when scraped. */
export function reportOldestPending(ages: OpenPurchaseAges): void {
  source = ages;
}

new Gauge({
  name: 'purchases_oldest_pending_seconds',
  help:
    'Age (since creation) of the oldest purchase the saga has not finished (open markers read by the sweeper each pass; ' +
    'the same system-wide value on every account instance; 0 when none is open)',
  registers: [metricsRegistry],
  collect() {
    this.set(source ? source.oldestAgeSeconds(Date.now()) : 0);
  },
});
