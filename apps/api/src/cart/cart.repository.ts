import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS } from '@app/http';
import { CartErrors } from './cart.errors';

/** A field of the user's hash that no sku can be (skus are A-Z a-z 0-9 . _ -). */
const UPDATED_AT = '@updatedAt';

export interface StoredLine {
  sku: string;
  quantity: number;
}

export interface StoredCart {
  lines: StoredLine[];
  /** null when the cart is empty (or was forgotten). */
  updatedAt: Date | null;
  expiresAt: Date | null;
}

/**
 * Sets one line unless that would make one line too many; the count and the write are one atomic
 * step, so concurrent PUTs of different skus never pass the limit together nor lose each other.
 * KEYS[1] the cart; ARGV sku, quantity, now (ms), ttl (ms), max lines. Returns 0 when full.
 */
const PUT_LINE = `
local key = KEYS[1]
if redis.call('HEXISTS', key, ARGV[1]) == 0 then
  local lines = redis.call('HLEN', key) - redis.call('HEXISTS', key, '${UPDATED_AT}')
  if lines >= tonumber(ARGV[5]) then return 0 end
end
redis.call('HSET', key, ARGV[1], ARGV[2], '${UPDATED_AT}', ARGV[3])
redis.call('PEXPIRE', key, ARGV[4])
return 1`;

/**
 * Removes lines; ARGV now (ms), ttl (ms), then sku and quantity pairs, where a quantity of '' removes
 * the line whatever it holds and another removes it only if it still holds that quantity (what a
 * checkout bought: a line changed meanwhile stays). The last line gone, the cart goes. Returns the count removed.
 */
const REMOVE_LINES = `
local key = KEYS[1]
local removed = 0
for i = 3, #ARGV, 2 do
  local current = redis.call('HGET', key, ARGV[i])
  if current and (ARGV[i + 1] == '' or current == ARGV[i + 1]) then
    redis.call('HDEL', key, ARGV[i])
    removed = removed + 1
  end
end
if removed == 0 then return 0 end
if redis.call('HLEN', key) - redis.call('HEXISTS', key, '${UPDATED_AT}') <= 0 then
  redis.call('DEL', key)
else
  redis.call('HSET', key, '${UPDATED_AT}', ARGV[1])
  redis.call('PEXPIRE', key, ARGV[2])
end
return removed`;

type CartRedis = Redis & {
  cartPutLine(key: string, sku: string, quantity: string, now: string, ttlMs: string, max: string): Promise<number>;
  cartRemoveLines(key: string, now: string, ttlMs: string, ...pairs: string[]): Promise<number>;
};

/**
 * A user's cart in Redis: one hash per user (`cart:<userId>`), sku → quantity, plus when it last
 * changed; every change sets the key's time to live again, so Redis itself forgets a cart the TTL
 * after its last change. Redis failing is a 503, never a 500.
 */
@Injectable()
export class CartRepository {
  private readonly logger = new Logger(CartRepository.name);
  private readonly redis: CartRedis;

  constructor(@Inject(REDIS) redis: Redis) {
    if (!('cartPutLine' in redis)) {
      redis.defineCommand('cartPutLine', { numberOfKeys: 1, lua: PUT_LINE });
      redis.defineCommand('cartRemoveLines', { numberOfKeys: 1, lua: REMOVE_LINES });
    }
    this.redis = redis as CartRedis;
  }

  async read(userId: string): Promise<StoredCart> {
    const [fields, ttl] = await this.guard(async () => {
      const replies = await this.redis.multi().hgetall(key(userId)).pttl(key(userId)).exec();
      if (!replies) throw new Error('the transaction was aborted');
      for (const [error] of replies) if (error) throw error;
      return [replies[0][1] as Record<string, string>, replies[1][1] as number] as const;
    });
    const lines: StoredLine[] = [];
    for (const [sku, value] of Object.entries(fields)) if (sku !== UPDATED_AT) lines.push({ sku, quantity: Number(value) });
    lines.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
    if (lines.length === 0) return { lines, updatedAt: null, expiresAt: null };
    const updatedAt = new Date(Number(fields[UPDATED_AT]) || Date.now());
    return { lines, updatedAt, expiresAt: ttl > 0 ? new Date(Date.now() + ttl) : null };
  }

  /** False when the cart holds `maxLines` other lines already. */
  async putLine(userId: string, sku: string, quantity: number, ttlMs: number, maxLines: number): Promise<boolean> {
    const done = await this.guard(() => this.redis.cartPutLine(key(userId), sku, String(quantity), String(Date.now()), String(ttlMs), String(maxLines)));
    return done === 1;
  }

  /** Removes the lines given; with a quantity, only while the line still holds it. */
  async removeLines(userId: string, lines: { sku: string; quantity?: number }[], ttlMs: number): Promise<number> {
    if (lines.length === 0) return 0;
    const pairs = lines.flatMap((line) => [line.sku, line.quantity === undefined ? '' : String(line.quantity)]);
    return this.guard(() => this.redis.cartRemoveLines(key(userId), String(Date.now()), String(ttlMs), ...pairs));
  }

  async clear(userId: string): Promise<void> {
    await this.guard(() => this.redis.del(key(userId)));
  }

  private async guard<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      this.logger.warn({ msg: 'cart store (Redis) failed', err: (error as Error).message });
      throw CartErrors.storeUnavailable();
    }
  }
}

function key(userId: string): string {
  return `cart:${userId}`;
}
