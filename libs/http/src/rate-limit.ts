import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerModuleOptions, ThrottlerOptions, ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

/** Probes and scrapes are never limited: an orchestrator must always see the truth. */
const EXEMPT = /^\/(health|metrics)(\/|$|\?)/;

/** A limit of `limit` requests per `ttlMs` per client, where `clientOf` names the client. */
export interface RateLimit {
  name: string;
  limit: number;
  ttlMs: number;
  clientOf: (request: FastifyRequest) => string;
  /** Only these requests count against it (all by default). */
  appliesTo?: (context: ExecutionContext) => boolean;
  /** Shared by every route it applies to, rather than counted per route. */
  acrossRoutes?: boolean;
  /** What the 429 says, given the seconds to wait. */
  message: (retryAfterS: number) => string;
}

/**
 * Options for @nestjs/throttler's guard: each limit with its own client key, counted in the shared
 * `storage` (Redis), so a limit holds however many instances serve. A limit of 0 is off. Over a
 * limit the guard answers 429 with Retry-After, and the error filter gives the usual error body.
 */
export function rateLimitOptions(limits: RateLimit[], storage: ThrottlerStorage): ThrottlerModuleOptions {
  const active = limits.filter((l) => l.limit > 0);
  const byName = new Map(active.map((l) => [l.name, l]));
  const throttlers: ThrottlerOptions[] = active.map((l) => ({
    name: l.name,
    ttl: l.ttlMs,
    limit: l.limit,
    getTracker: (request) => l.clientOf(request as FastifyRequest),
    skipIf: l.appliesTo ? (context) => !l.appliesTo!(context) : undefined,
    // Named first, so the 429 can say which limit it was; hashed, so no key or address is stored as is.
    generateKey: (context, tracker, name) =>
      `${name}:${digest(l.acrossRoutes ? tracker : `${context.getClass().name}.${context.getHandler().name}\n${tracker}`)}`,
  }));
  return {
    // With every limit off, one that never applies keeps the guard's configuration valid.
    throttlers: throttlers.length > 0 ? throttlers : [{ name: 'off', ttl: 1000, limit: 1, skipIf: () => true }],
    storage,
    skipIf: (context: ExecutionContext) => context.getType() !== 'http' || EXEMPT.test(context.switchToHttp().getRequest<FastifyRequest>().url),
    errorMessage: (_context, detail) => {
      const limit = byName.get(detail.key.slice(0, detail.key.indexOf(':'))) ?? active[0];
      return limit.message(Math.max(1, detail.timeToBlockExpire));
    },
  };
}

/**
 * @nestjs/throttler's guard, answering every 429 with a plain `Retry-After` (the library names
 * the header after the limit, `Retry-After-<name>`, for all but the default one).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  /** Limits are for HTTP clients; a message handler of the same app (a Nest microservice) is never throttled. */
  override canActivate(context: ExecutionContext): Promise<boolean> {
    return context.getType() === 'http' ? super.canActivate(context) : Promise.resolve(true);
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    void context
      .switchToHttp()
      .getResponse<FastifyReply>()
      .header('Retry-After', String(Math.max(1, detail.timeToBlockExpire)));
    return super.throwThrottlingException(context, detail);
  }
}
