import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { rateLimitOptions } from '@app/http';
import { AuthModule, bearerToken, TokenService } from '../auth';
import { ApiEnv } from '../config/api.env';

/**
 * RATE_LIMIT_RPS requests per second per user (the token's subject, signature checked) or per
 * address without a valid token. A global guard: it runs before every route's own guards.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [AuthModule],
      inject: [ApiEnv, TokenService],
      useFactory: (env: ApiEnv, tokens: TokenService) =>
        rateLimitOptions(env.RATE_LIMIT_RPS, (request: FastifyRequest) => {
          const token = bearerToken(request);
          if (token) {
            try {
              return `user:${tokens.verify(token).sub}`;
            } catch {
              // An invalid token is limited by address, and refused later by the auth guard.
            }
          }
          return `ip:${request.ip}`;
        }),
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
})
export class RateLimitModule {}
