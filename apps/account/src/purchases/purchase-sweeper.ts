import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AccountEnv } from '../config/account.env';
import { PurchaseRepository } from './purchase.repository';
import { PurchaseSagaService } from './purchase-saga.service';

/**
 * Drives every purchase whose deadline passed (no progress in time) toward a terminal status:
 * resend ReserveStock with backoff, then void, refund and cancel. Several instances may sweep at
 * once: each step is a compare-and-set on the purchase's stage.
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
    private readonly env: AccountEnv,
  ) {}

  onApplicationBootstrap(): void {
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
    const due = await this.repository.due(new Date());
    const concurrency = 16;
    for (let i = 0; i < due.length; i += concurrency) {
      await Promise.all(
        due
          .slice(i, i + concurrency)
          .map(({ purchaseId: id, dueAt }) =>
            this.saga.sweep(id, dueAt).catch((error: Error) => this.logger.warn({ msg: 'sweeping a purchase failed', purchaseId: id, err: error.message })),
          ),
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
