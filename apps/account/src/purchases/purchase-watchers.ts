import { Injectable } from '@nestjs/common';
import type { Purchase } from './purchase.repository';

/** Long polls waiting for a purchase to finish, by purchase id; woken by this instance's saga. */
@Injectable()
export class PurchaseWatchers {
  private readonly watchers = new Map<string, Set<(terminal?: Purchase) => void>>();

  /** Resolves with the terminal purchase when `wake` is called for it, or with undefined after `waitMs`. */
  watch(purchaseId: string, waitMs: number): { changed: Promise<Purchase | undefined>; cancel: () => void } {
    let wake!: (terminal?: Purchase) => void;
    const changed = new Promise<Purchase | undefined>((resolve) => (wake = resolve));
    const timer = setTimeout(() => wake(), waitMs);
    const set = this.watchers.get(purchaseId) ?? new Set<(terminal?: Purchase) => void>();
    set.add(wake);
    this.watchers.set(purchaseId, set);
    return {
      changed,
      cancel: () => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0 && this.watchers.get(purchaseId) === set) this.watchers.delete(purchaseId);
        wake();
      },
    };
  }

  wake(terminal: Purchase): void {
    for (const wake of this.watchers.get(terminal.purchaseId) ?? []) wake(terminal);
  }
}
