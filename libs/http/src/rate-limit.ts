import { ExecutionContext } from '@nestjs/common';
import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';

/** Probes and scrapes are never limited: an orchestrator must always see the truth. */
const EXEMPT = /^\/(health|metrics)(\/|$|\?)/;

/**
 * Options for @nestjs/throttler's guard: `rps` requests per second per client, where `clientOf`
 * names the client (a user, a store key, an address); 0 turns limiting off. Over the limit the
 * guard answers 429 with Retry-After, and the error filter gives the usual error body.
 */
export function rateLimitOptions(rps: number, clientOf: (request: FastifyRequest) => string): ThrottlerModuleOptions {
  return {
    throttlers: [{ name: 'default', ttl: 1000, limit: Math.max(rps, 1) }],
    skipIf: (context: ExecutionContext) =>
      rps === 0 || context.getType() !== 'http' || EXEMPT.test(context.switchToHttp().getRequest<FastifyRequest>().url),
    getTracker: (request) => clientOf(request as FastifyRequest),
    errorMessage: (_context, detail) =>
      `Too many requests: the limit is ${rps} per second per client; retry after ${Math.max(1, detail.timeToBlockExpire)} s.`,
  };
}
