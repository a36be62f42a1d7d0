import { applyDecorators, ExecutionContext, Module, SetMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { RateLimitGuard, rateLimitOptions, SharedThrottlerStorage } from '@app/http';
import { AuthModule, bearerToken, TokenService } from '../auth';
import { ApiEnv } from '../config/api.env';

const AUTH_LIMITED = 'rate-limit:auth';

/** Marks a route that guesses a password could go through: login, registration, password change. */
export const AuthRateLimited = () => applyDecorators(SetMetadata(AUTH_LIMITED, true));

const isAuthRoute = (context: ExecutionContext) => Reflect.getMetadata(AUTH_LIMITED, context.getHandler()) === true;

/** The account an auth attempt is about: the e-mail it names, else the signed-in user. */
function accountOf(request: FastifyRequest, tokens: TokenService): string {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  if (typeof email === 'string') return `email:${email.trim().toLowerCase().slice(0, 320)}`;
  return userOrAddress(request, tokens);
}

function userOrAddress(request: FastifyRequest, tokens: TokenService): string {
  const token = bearerToken(request);
  if (token) {
    try {
      return `user:${tokens.verify(token).sub}`;
    } catch {
      // An invalid token is limited by address, and refused later by the auth guard.
    }
  }
  return `ip:${request.ip}`;
}

/**
 * Two limits, both counted in Redis so they hold across api instances: RATE_LIMIT_RPS requests a
 * second per user (per address without a valid token) on every route, and AUTH_RATE_LIMIT_PER_MIN
 * attempts a minute per account and per address on the routes marked {@link AuthRateLimited},
 * counted across them. A global guard: it runs before every route's own guards.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [AuthModule],
      inject: [ApiEnv, TokenService, SharedThrottlerStorage],
      useFactory: (env: ApiEnv, tokens: TokenService, storage: SharedThrottlerStorage) => {
        const perMinute = env.AUTH_RATE_LIMIT_PER_MIN;
        const authMessage = (retryAfter: number) =>
          `Too many sign-in attempts: at most ${perMinute} a minute per account and per address; retry after ${retryAfter} s.`;
        return rateLimitOptions(
          [
            {
              name: 'default',
              limit: env.RATE_LIMIT_RPS,
              ttlMs: 1000,
              clientOf: (request) => userOrAddress(request, tokens),
              message: (retryAfter) => `Too many requests: the limit is ${env.RATE_LIMIT_RPS} per second per client; retry after ${retryAfter} s.`,
            },
            {
              name: 'auth-ip',
              limit: perMinute,
              ttlMs: 60_000,
              clientOf: (request) => `ip:${request.ip}`,
              appliesTo: isAuthRoute,
              acrossRoutes: true,
              message: authMessage,
            },
            {
              name: 'auth-account',
              limit: perMinute,
              ttlMs: 60_000,
              clientOf: (request) => accountOf(request, tokens),
              appliesTo: isAuthRoute,
              acrossRoutes: true,
              message: authMessage,
            },
          ],
          storage,
        );
      },
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
})
export class RateLimitModule {}
