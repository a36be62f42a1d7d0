import { CanActivate, ExecutionContext, HttpException, HttpStatus, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '@app/contracts';
import { IngestEnv } from '../config/ingest.env';

/** `X-Api-Key` → the one store it belongs to: 401 when missing or unknown, 403 for another store's path. */
@Injectable()
export class StoreApiKeyGuard implements CanActivate {
  private readonly stores: Map<string, string>;
  constructor(env: IngestEnv) {
    this.stores = env.storeIdByApiKey;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest<{ Params: { storeId: string } }>>();
    const key = request.headers['x-api-key'];
    if (typeof key !== 'string' || key === '') {
      throw new DomainError('STOCK.API_KEY_MISSING', 'unauthenticated', 'Send the store API key in the X-Api-Key header.');
    }
    const store = this.stores.get(key);
    if (store === undefined) throw new DomainError('STOCK.API_KEY_UNKNOWN', 'unauthenticated', 'The X-Api-Key is not a known store key.');
    if (store !== request.params.storeId) {
      throw new DomainError('STOCK.WRONG_STORE', 'forbidden', `This API key belongs to another store than "${request.params.storeId}".`);
    }
    return true;
  }
}

/** A fixed one-second window per API key (RATE_LIMIT_RPS, 0 = off): 429 with Retry-After. */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private windowStart = 0;
  private counts = new Map<string, number>();
  private readonly limit: number;
  constructor(env: IngestEnv) {
    this.limit = env.RATE_LIMIT_RPS;
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.limit === 0) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const client = String(request.headers['x-api-key'] ?? request.ip);
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.counts = new Map();
    }
    const count = (this.counts.get(client) ?? 0) + 1;
    this.counts.set(client, count);
    if (count <= this.limit) return true;
    void http.getResponse<FastifyReply>().header('Retry-After', String(Math.max(1, Math.ceil((this.windowStart + 1000 - now) / 1000))));
    throw new HttpException(`Too many requests: at most ${this.limit} per second per API key. Retry after the time in Retry-After.`, HttpStatus.TOO_MANY_REQUESTS);
  }
}
