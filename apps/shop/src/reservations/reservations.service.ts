import { KeyedLanes } from '@app/messaging';
import { Injectable, Logger } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '@app/observability';
import { ShopEnv } from '../config/shop.env';
import { ItemErrors } from '../items/item';
import { CatalogNotifier } from '../items/catalog.notifier';
import { planCommands, SagaCommand, SagaOutcome } from './reservation';
import { ReservationsRepository } from './reservations.repository';

const MAX_ATTEMPTS = 30;

const outcomes = new Counter({
  name: 'shop_saga_outcomes_total',
  help: 'Saga commands answered by shop, by outcome',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});
const batchSize = new Histogram({
  name: 'shop_reservation_batch_size',
  help: 'Saga commands of one sku committed in one lightweight transaction',
  buckets: [1, 2, 5, 10, 20, 50],
  registers: [metricsRegistry],
});
const casConflicts = new Counter({
  name: 'shop_reservation_cas_conflicts_total',
  help: 'Reservation batches whose compare-and-set lost to another writer (then re-read and retried)',
  registers: [metricsRegistry],
});

interface Pending {
  command: SagaCommand;
  resolve: (outcome: SagaOutcome) => void;
  reject: (error: Error) => void;
}

/**
 * Reserves and voids stock for the purchase saga. Quantities are guarded by Cassandra
 * lightweight transactions (compare-and-set on the item's quantity, in the same partition as
 * the reservation rows), which stays correct with any number of shop instances. Inside one
 * instance, commands for one sku wait in a lane and are committed together: one Paxos round
 * for all that arrived meanwhile instead of one per command, and no self-inflicted contention.
 */
@Injectable()
export class ReservationsService {
  private readonly logger = new Logger(ReservationsService.name);
  private readonly lanes = new KeyedLanes();
  private readonly pending = new Map<string, Pending[]>();

  constructor(
    private readonly repository: ReservationsRepository,
    private readonly notifier: CatalogNotifier,
    private readonly env: ShopEnv,
  ) {}

  /**
   * The commands of one purchase, one per line (each sku once): every line reserved, or none held.
   * Each line is decided on its own sku's partition, as a single-line purchase is; when any line
   * cannot be reserved, the lines that were are voided before the answer, which names the line that
   * failed. A repeat (redelivery after a crash in between, another instance) re-reads each line's
   * first decision and so reaches the same answer, and finishes giving back what a crash left held.
   */
  async handleAll(commands: SagaCommand[]): Promise<SagaOutcome> {
    if (commands.length === 1) return this.handle(commands[0]);
    const results = await Promise.all(commands.map((command) => this.handle(command)));
    if (commands[0].type === 'void') return results[0];
    if (results.every((result) => result.type === 'reserved')) return results[0];
    const held = commands.filter((_, index) => results[index].type === 'reserved');
    await Promise.all(held.map((command) => this.handle({ ...command, type: 'void' })));
    const failures = results.filter((result): result is Extract<SagaOutcome, { type: 'failed' }> => result.type === 'failed');
    // A line the shop refused says more than a line voided because of it (or voided by account).
    return failures.find((failure) => failure.code !== 'VOIDED') ?? failures[0];
  }

  /** Resolves once the decision is durable; the same purchase always gets the same answer. */
  handle(command: SagaCommand): Promise<SagaOutcome> {
    return new Promise<SagaOutcome>((resolve, reject) => {
      const queued = this.pending.get(command.sku);
      if (queued) {
        queued.push({ command, resolve, reject });
        return;
      }
      this.pending.set(command.sku, [{ command, resolve, reject }]);
      void this.lanes.run(command.sku, () => this.drain(command.sku));
    });
  }

  private async drain(sku: string): Promise<void> {
    const all = this.pending.get(sku) ?? [];
    this.pending.delete(sku);
    const max = this.env.SHOP_RESERVATION_BATCH_MAX;
    for (let i = 0; i < all.length; i += max) {
      const chunk = all.slice(i, i + max);
      try {
        const results = await this.decide(
          sku,
          chunk.map((p) => p.command),
        );
        chunk.forEach((p, index) => {
          outcomes.inc({ outcome: results[index].type });
          p.resolve(results[index]);
        });
      } catch (error) {
        for (const p of chunk) p.reject(error as Error);
      }
    }
  }

  private async decide(sku: string, commands: SagaCommand[]): Promise<SagaOutcome[]> {
    const purchaseIds = [...new Set(commands.map((c) => c.purchaseId))];
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        // After a lost race or an unknown outcome, read serially: it settles any Paxos round in flight.
        const state = await this.repository.load(sku, purchaseIds, { serial: attempt > 0 });
        const now = new Date();
        const plan = planCommands(sku, state, commands, now);
        if (await this.repository.commit(sku, plan, now)) {
          batchSize.observe(commands.length);
          // Not awaited: the lane moves on; published on the same channel before the replies, so it lands first.
          if (plan.nextQuantity !== plan.expectedQuantity) void this.notifier.itemChanged(sku);
          return plan.outcomes;
        }
        casConflicts.inc();
      } catch (error) {
        lastError = error as Error;
        this.logger.warn({ msg: 'reservation attempt failed', sku, attempt, err: lastError.message });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(5 * 2 ** Math.min(attempt, 6), 200) * Math.random()));
    }
    throw lastError ?? ItemErrors.contended(sku);
  }
}
