import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AccountEnv } from '../config/account.env';
import { OpenPurchaseAges, reportOldestPending } from './open-purchase-ages';
import { PurchaseRepository } from './purchase.repository';
import { PurchaseSagaService } from './purchase-saga.service';

/**
 * Drives every purchase whose deadline passed (no progress in time) toward a terminal status:
 * resend ReserveStock with backoff, then void, refund and cancel. Several instances may sweep at
 * once: each step is a compare-and-set on the purchase's stage. Each pass reads every open marker,
 * which also gives `purchases_oldest_pending_seconds` its set of open purchases ({@link OpenPurchaseAges}).
 */
@Injectable()
export class PurchaseSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PurchaseSweeper.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    private readonly repository: PurchaseRepository,
    private readonly saga: PurchaseSagaService,
    private readonly ages: OpenPurchaseAges,
    private readonly env: AccountEnv,
  ) {}

  onApplicationBootstrap(): void {
    reportOldestPending(this.ages);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweepOnce()
        .catch((error: Error) => this.logger.warn({ msg: 'sweep failed', err: error.message }))
        .finally(() => this.schedule());
    }, this.env.PURCHASE_SWEEP_INTERVAL_MS);
  }

  /** One pass; returns how many purchases were due. */
  async sweepOnce(): Promise<number> {
    const markers = await this.repository.openMarkers();
    const now = new Date();
    this.ages.observe(
      markers.map((m) => m.purchaseId),
      now.getTime(),
    );
    const due = markers.filter(({ dueAt }) => dueAt.getTime() <= now.getTime());
    const concurrency = 16;
    for (let i = 0; i < due.length; i += concurrency) {
      await Promise.all(
        due.slice(i, i + concurrency).map(async ({ purchaseId: id, dueAt }) => {
          try {
            const swept = await this.saga.sweep(id, dueAt);
            if (swept?.status === 'PENDING') this.ages.created(id, swept.createdAt);
          } catch (error) {
            this.logger.warn({ msg: 'sweeping a purchase failed', purchaseId: id, err: (error as Error).message });
          }
        }),
      );
    }
    return due.length;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
