import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { AccountErrorCodes, AccountRpc, DomainError, GetPurchaseRequest, PURCHASE_STATUSES, PurchaseStatus, PurchaseView } from '@app/contracts';
import { RabbitClient } from '@app/messaging';
import { metricsRegistry } from '@app/observability';
import { ApiEnv } from '../config/api.env';

/** Streams one user may hold open at once on one api instance; past it, 429. */
export const MAX_STREAMS_PER_USER = 8;
/** Purchases read again at once by one resync pass. */
const RESYNC_CONCURRENCY = 16;

export const PurchaseStreamErrorCodes = {
  /** The instance holds PURCHASE_STREAMS_MAX streams (503). */
  InstanceFull: 'PURCHASE.STREAMS_FULL',
  /** The user holds MAX_STREAMS_PER_USER streams on this instance (429). */
  TooManyForUser: 'PURCHASE.TOO_MANY_STREAMS',
} as const;

const TERMINAL: readonly PurchaseStatus[] = PURCHASE_STATUSES.filter((s) => s !== 'PENDING');

export function isTerminalStatus(status: PurchaseStatus): boolean {
  return TERMINAL.includes(status);
}

const streamsOpen = new Gauge({
  name: 'purchase_streams_open',
  help: 'Purchase event streams (GET /v1/purchases/{id}/events) open on this api instance',
  registers: [metricsRegistry],
});
const streamsRefused = new Counter({
  name: 'purchase_streams_refused_total',
  help: 'Purchase event streams refused because this instance (503) or the user (429) holds as many as allowed',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});
const resyncChanges = new Counter({
  name: 'purchase_status_resync_changes_total',
  help: 'Status changes that reached a stream or long poll by reading the purchase again rather than by the broadcast (a notice missed or late)',
  registers: [metricsRegistry],
});

export interface FollowerCallbacks {
  /** The purchase as it now is (from the broadcast, or read again); may repeat a status already seen. */
  changed(view: PurchaseView): void;
  /** This instance is shutting down: end now. */
  ended(): void;
}

export interface Following {
  /** Stops following; idempotent. */
  close(): void;
}

interface Follower extends FollowerCallbacks {
  readonly userId: string;
  readonly stream: boolean;
}

/**
 * Who on this api instance is waiting to hear about which purchase: the event streams and the long
 * polls. account broadcasts every status change to every api instance (`PurchaseStatusChanged`, on a
 * queue of each instance's own), and this fans it out in memory, so a purchase completed by any
 * account instance reaches every client at once. Notices can be missed (a broker reconnect, an
 * instance that subscribed late, a notice that was lost), so every purchase followed here is also
 * read again over RPC on each (re)subscription and every PURCHASE_STREAM_RESYNC_MS. Followers get
 * each view as it comes; each one drops statuses it has already handed on.
 */
@Injectable()
export class PurchaseFollowers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PurchaseFollowers.name);
  private readonly byPurchase = new Map<string, Set<Follower>>();
  private readonly streamsByUser = new Map<string, number>();
  private streams = 0;
  private timer?: NodeJS.Timeout;
  private resyncing?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly rabbit: RabbitClient,
    private readonly env: ApiEnv,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.resync(), this.env.PURCHASE_STREAM_RESYNC_MS);
    this.timer.unref();
  }

  /** Ends every stream (a client reconnects to another instance) and long poll before the HTTP server closes. */
  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const followers of [...this.byPurchase.values()]) for (const f of [...followers]) f.ended();
  }

  /**
   * Follows one purchase of one user. A stream counts against PURCHASE_STREAMS_MAX and
   * {@link MAX_STREAMS_PER_USER} (a DomainError when either is reached); a long poll has its own cap.
   */
  follow(userId: string, purchaseId: string, kind: 'stream' | 'wait', callbacks: FollowerCallbacks): Following {
    const stream = kind === 'stream';
    if (stream) this.admitStream(userId);
    const follower: Follower = { userId, stream, changed: callbacks.changed, ended: callbacks.ended };
    const set = this.byPurchase.get(purchaseId) ?? new Set<Follower>();
    set.add(follower);
    this.byPurchase.set(purchaseId, set);
    let open = true;
    return {
      close: () => {
        if (!open) return;
        open = false;
        set.delete(follower);
        if (set.size === 0 && this.byPurchase.get(purchaseId) === set) this.byPurchase.delete(purchaseId);
        if (stream) this.releaseStream(userId);
      },
    };
  }

  /** A status change heard from account (or read again): handed to every follower of that purchase and user. */
  deliver(userId: string, view: PurchaseView): void {
    for (const follower of [...(this.byPurchase.get(view.purchaseId) ?? [])]) {
      if (follower.userId !== userId) continue;
      try {
        follower.changed(view);
      } catch (error) {
        this.logger.warn({ msg: 'a purchase follower failed', purchaseId: view.purchaseId, err: (error as Error).message });
      }
    }
  }

  /** Reads every followed purchase again (one pass at a time) and hands on what it finds. */
  resync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.resyncing ??= this.resyncOnce().finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  /** Streams open on this instance. */
  get openStreams(): number {
    return this.streams;
  }

  private async resyncOnce(): Promise<void> {
    const pairs: { userId: string; purchaseId: string }[] = [];
    for (const [purchaseId, followers] of this.byPurchase) {
      for (const userId of new Set([...followers].map((f) => f.userId))) pairs.push({ userId, purchaseId });
    }
    for (let i = 0; i < pairs.length; i += RESYNC_CONCURRENCY) {
      await Promise.all(pairs.slice(i, i + RESYNC_CONCURRENCY).map((pair) => this.readAgain(pair)));
    }
  }

  private async readAgain({ userId, purchaseId }: { userId: string; purchaseId: string }): Promise<void> {
    if (!this.byPurchase.has(purchaseId)) return;
    try {
      const view = await this.rabbit.request(AccountRpc.GetPurchase, { userId, purchaseId } satisfies GetPurchaseRequest);
      if (isTerminalStatus(view.status) && this.byPurchase.has(purchaseId)) resyncChanges.inc();
      this.deliver(userId, view);
    } catch (error) {
      // Not this user's (the stream is refused with a 404 by its own read), or account unreachable: next pass.
      if (!(error instanceof DomainError && error.code === AccountErrorCodes.PurchaseNotFound)) {
        this.logger.warn({ msg: 'could not read a followed purchase again', purchaseId, err: (error as Error).message });
      }
    }
  }

  private admitStream(userId: string): void {
    if (this.streams >= this.env.PURCHASE_STREAMS_MAX) {
      streamsRefused.inc({ reason: 'instance' });
      throw new DomainError(
        PurchaseStreamErrorCodes.InstanceFull,
        'unavailable',
        `This server holds as many purchase streams as it can (${this.env.PURCHASE_STREAMS_MAX}); retry shortly, ` +
          'or poll GET /v1/purchases/{purchaseId}?waitMs=20000 instead.',
      );
    }
    const mine = this.streamsByUser.get(userId) ?? 0;
    if (mine >= MAX_STREAMS_PER_USER) {
      streamsRefused.inc({ reason: 'user' });
      throw new DomainError(
        PurchaseStreamErrorCodes.TooManyForUser,
        'conflict',
        `You have ${MAX_STREAMS_PER_USER} purchase streams open already; close one (or wait for one to end) before opening another.`,
      );
    }
    this.streamsByUser.set(userId, mine + 1);
    this.streams++;
    streamsOpen.set(this.streams);
  }

  private releaseStream(userId: string): void {
    const left = (this.streamsByUser.get(userId) ?? 1) - 1;
    if (left > 0) this.streamsByUser.set(userId, left);
    else this.streamsByUser.delete(userId);
    this.streams--;
    streamsOpen.set(this.streams);
  }
}
