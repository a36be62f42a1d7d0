import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import { PriceChanged, TopicContracts } from '@app/contracts';
import { KafkaClient, KeyedLanes } from '@app/messaging';
import { metricsRegistry } from '@app/observability';
import { ShopEnv } from '../config/shop.env';
import { PriceOutboxRepository } from './price-outbox.repository';

/** A marker is kept this long after its sku was drained, so a change racing the drain is never orphaned. */
const MARKER_GRACE_MICROS = 60_000_000n;
/** Longer than any drain takes; frees the lease of an instance that died holding it. */
const LEASE_TTL_SECONDS = 30;

const published = new Counter({
  name: 'shop_price_changes_published_total',
  help: 'PriceChanged events the outbox relay put on Kafka (a republished one after a crash counts again)',
  registers: [metricsRegistry],
});
const relayFailures = new Counter({
  name: 'shop_price_outbox_failures_total',
  help: 'Outbox relay passes that failed (Kafka or Cassandra unavailable); retried on the next tick',
  registers: [metricsRegistry],
});

/**
 * Moves recorded price changes from the items' outbox to Kafka: publish (acks from all
 * replicas, key = sku, so one sku's versions stay in order), then remove the entry. A crash in
 * between publishes the event again on the next pass, which consumers ignore by its version:
 * at-least-once on the wire, exactly once in effect. A lease per sku keeps two shop instances
 * from publishing the same change together.
 */
@Injectable()
export class PriceOutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PriceOutboxRelay.name);
  private readonly lanes = new KeyedLanes();
  private readonly queued = new Set<string>();
  private readonly instanceId = randomUUID();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly repository: PriceOutboxRepository,
    private readonly kafka: KafkaClient,
    private readonly env: ShopEnv,
  ) {}

  onApplicationBootstrap(): void {
    const tick = () => {
      if (this.stopped) return;
      void this.sweep().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.env.SHOP_OUTBOX_POLL_MS);
      });
    };
    tick();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Written before the price change, so a change is found by a pass even if this process dies right after it. */
  mark(sku: string): Promise<void> {
    return this.repository.markOutbox(sku);
  }

  /** Publishes this sku's pending changes soon, without waiting for the next tick. */
  kick(sku: string): void {
    void this.drain(sku).catch(() => undefined);
  }

  /** One pass over every sku with a marker; failures are counted and left for the next pass. */
  async sweep(): Promise<void> {
    try {
      await this.kafka.prepare(TopicContracts.PriceChanged);
      const skus = await this.repository.outboxSkus();
      await Promise.all(skus.map((sku) => this.drain(sku).catch(() => undefined)));
    } catch (error) {
      relayFailures.inc();
      this.logger.warn({ msg: 'outbox sweep failed', err: (error as Error).message });
    }
  }

  /** Drains one sku; concurrent requests for the same sku collapse into the one queued behind the running drain. */
  drain(sku: string): Promise<void> {
    if (this.queued.has(sku)) return Promise.resolve();
    this.queued.add(sku);
    return this.lanes.run(sku, async () => {
      this.queued.delete(sku);
      try {
        await this.kafka.prepare(TopicContracts.PriceChanged);
        // Another instance is draining this sku: it publishes what is pending; our marker stays for the next pass.
        if (!(await this.repository.tryLeaseOutbox(sku, this.instanceId, LEASE_TTL_SECONDS))) return;
        try {
          await this.publishPending(sku);
        } finally {
          await this.repository.releaseOutboxLease(sku, this.instanceId).catch(() => undefined);
        }
      } catch (error) {
        relayFailures.inc();
        this.logger.warn({ msg: 'could not publish price changes; retrying on the next pass', sku, err: (error as Error).message });
        throw error;
      }
    });
  }

  private async publishPending(sku: string): Promise<void> {
    const startedMicros = BigInt(Date.now()) * 1000n;
    const pending = await this.repository.unpublished(sku);
    if (pending.length > 0) {
      await this.kafka.dispatch(
        TopicContracts.PriceChanged,
        pending.map(({ version, event }) => ({ key: sku, value: JSON.parse(event) as PriceChanged, messageId: `price-changed:${sku}:${version}` })),
      );
      await this.repository.removePublished(
        sku,
        pending.map((p) => p.version),
      );
      published.inc(pending.length);
      this.logger.log({ msg: 'price changes published', sku, versions: pending.map((p) => p.version) });
    }
    await this.repository.clearOutbox(sku, startedMicros - MARKER_GRACE_MICROS);
  }
}
