import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { HealthIndicatorService } from '@nestjs/terminus';
import Redis from 'ioredis';
import { probe, ReadinessIndicator } from '@app/observability';

export const REDIS = Symbol('REDIS');

/**
 * One Redis connection per app. Commands fail at once while Redis is away (no offline queue, one
 * try, a short timeout) so a request is never held waiting for it; the client reconnects by itself.
 */
export function createRedis(url: string): Redis {
  const logger = new Logger('redis');
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  let down = false;
  redis.on('ready', () => {
    if (down) logger.log('connected to Redis again');
    down = false;
  });
  redis.on('error', (error: Error) => {
    if (!down) logger.warn({ msg: 'Redis is unreachable; rate limits are not enforced until it is back', err: error.message });
    down = true;
  });
  return redis;
}

/** Ready when Redis answers PING. */
@Injectable()
export class RedisHealthIndicator implements ReadinessIndicator {
  readonly key = 'redis';

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check() {
    return probe(this.indicators, this.key, 2500, async () => {
      if (this.redis.status !== 'ready') throw new Error(`not connected (${this.redis.status})`);
      await this.redis.ping();
    });
  }
}

/**
 * The rate limits' counters in Redis, so a limit holds for the system however many instances
 * serve it. When Redis cannot answer, a request is let through (and readiness says Redis is
 * down): refusing every client because the counter store is away would turn a Redis outage
 * into a full outage.
 */
@Injectable()
export class SharedThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('rate-limit');
  private readonly store: ThrottlerStorageRedisService;
  private lastWarning = 0;

  constructor(@Inject(REDIS) redis: Redis) {
    this.store = new ThrottlerStorageRedisService(redis);
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string) {
    try {
      return await this.store.increment(key, ttl, limit, blockDuration, throttlerName);
    } catch (error) {
      if (Date.now() - this.lastWarning > 10_000) {
        this.lastWarning = Date.now();
        this.logger.warn({ msg: 'rate-limit counter unavailable; letting requests through', err: (error as Error).message });
      }
      return { totalHits: 0, timeToExpire: Math.ceil(ttl / 1000), isBlocked: false, timeToBlockExpire: 0 };
    }
  }
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** Redis for the apps that keep shared counters in it (the api and ingest). */
@Global()
@Module({})
export class RedisModule {
  static forRoot(url: string): DynamicModule {
    return {
      module: RedisModule,
      providers: [{ provide: REDIS, useFactory: () => createRedis(url) }, HealthIndicatorService, RedisHealthIndicator, SharedThrottlerStorage, RedisLifecycle],
      exports: [REDIS, RedisHealthIndicator, SharedThrottlerStorage],
    };
  }
}

/**
 * Counts failures per client in Redis (a fixed window), across every instance: `retryAfter` says
 * how many seconds a client that reached `limit` must wait, 0 when it may go on. Fails open.
 */
export class FailureCounter {
  constructor(
    private readonly redis: Redis,
    private readonly name: string,
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  async retryAfter(client: string): Promise<number> {
    if (this.limit === 0) return 0;
    try {
      const key = this.key(client);
      const [count, ttl] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
      return Number(count ?? 0) >= this.limit ? Math.max(1, Math.ceil(ttl / 1000)) : 0;
    } catch {
      return 0;
    }
  }

  async record(client: string): Promise<void> {
    if (this.limit === 0) return;
    const key = this.key(client);
    await this.redis
      .multi()
      .incr(key)
      .pexpire(key, this.windowMs, 'NX')
      .exec()
      .catch(() => undefined);
  }

  private key(client: string): string {
    return `failures:${this.name}:${client}`;
  }
}
