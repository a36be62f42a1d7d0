import { CanActivate, ExecutionContext, HttpException, HttpStatus, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { metricsRegistry } from '@app/observability';
import { bearerToken, TokenService } from '../auth';
import { ApiEnv } from '../config/api.env';
import { TokenBuckets } from './token-buckets';

const rateLimited = new Counter({
  name: 'http_rate_limited_total',
  help: 'Requests answered 429',
  labelNames: ['client'] as const,
  registers: [metricsRegistry],
});

/** Probes and scrapes are never limited: an orchestrator must always see the truth. */
const EXEMPT = /^\/(health|metrics)(\/|$|\?)/;

/**
 * RATE_LIMIT_RPS requests per second per user (the token's subject, signature checked) or per IP
 * without a valid token; over it, 429 with Retry-After. 0 turns it off.
 */
@Injectable()
export class RateLimitGuard implements CanActivate, OnModuleDestroy {
  private readonly buckets?: TokenBuckets;
  private readonly pruner?: NodeJS.Timeout;
  private readonly rps: number;

  constructor(
    env: ApiEnv,
    private readonly tokens: TokenService,
  ) {
    this.rps = env.RATE_LIMIT_RPS;
    if (env.RATE_LIMIT_RPS > 0) {
      this.buckets = new TokenBuckets(env.RATE_LIMIT_RPS, env.RATE_LIMIT_RPS * 2);
      this.pruner = setInterval(() => this.buckets!.prune(), 10_000).unref();
    }
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.buckets || context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (EXEMPT.test(request.url)) return true;
    const client = this.clientOf(request);
    const waitMs = this.buckets.take(client);
    if (waitMs === 0) return true;
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    rateLimited.inc({ client: client.startsWith('user:') ? 'user' : 'ip' });
    void context.switchToHttp().getResponse<FastifyReply>().header('Retry-After', String(retryAfter));
    throw new HttpException(
      `Too many requests: the limit is ${this.rps} per second per client; retry after ${retryAfter} s.`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }

  private clientOf(request: FastifyRequest): string {
    const token = bearerToken(request);
    if (token) {
      try {
        return `user:${this.tokens.verify(token).sub}`;
      } catch {
        // An invalid token is limited by address, and refused later by the auth guard.
      }
    }
    return `ip:${request.ip}`;
  }

  onModuleDestroy(): void {
    clearInterval(this.pruner);
  }
}
