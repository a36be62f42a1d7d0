import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Redis from 'ioredis';
import { DomainError, StockErrorCodes } from '@app/contracts';
import { errorBody, ErrorBody, FailureCounter, REDIS, sendError, toErrorBody } from '@app/http';
import { IngestEnv } from '../config/ingest.env';

export const STOCK_EVENTS_ROUTE = '/v1/stores/:storeId/stock-events';

/**
 * `X-Api-Key` → the one store it belongs to: 401 when missing or unknown, 403 for another store's
 * path. Checked in Fastify's onRequest hook, before a byte of the body is read, and an address
 * that keeps sending unknown keys is answered 429 without looking (counted across instances).
 */
@Injectable()
export class StoreApiKeyCheck {
  private readonly stores: Map<string, string>;
  private readonly failures: FailureCounter;

  constructor(env: IngestEnv, @Inject(REDIS) redis: Redis) {
    this.stores = env.storeIdByApiKey;
    this.failures = new FailureCounter(redis, 'ingest-key', env.INGEST_KEY_FAILURES_PER_MIN, 60_000);
  }

  /** The Fastify hook: lets the request on, or answers it. */
  readonly onRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.routeOptions.url !== STOCK_EVENTS_ROUTE) return;
    const retryAfter = await this.failures.retryAfter(request.ip);
    if (retryAfter > 0) {
      return refuse(request, reply, errorBody(429, `Too many requests with an unknown X-Api-Key from this address; retry after ${retryAfter} s.`), {
        'retry-after': String(retryAfter),
      });
    }
    const problem = this.check(request.headers['x-api-key'], (request.params as { storeId?: string }).storeId ?? '');
    if (!problem) return;
    if (problem.code === StockErrorCodes.ApiKeyUnknown) await this.failures.record(request.ip);
    return refuse(request, reply, toErrorBody(problem));
  };

  check(key: string | string[] | undefined, storeId: string): DomainError | undefined {
    if (typeof key !== 'string' || key === '') {
      return new DomainError(StockErrorCodes.ApiKeyMissing, 'unauthenticated', 'Send the store API key in the X-Api-Key header.');
    }
    const store = this.stores.get(key);
    if (store === undefined) return new DomainError(StockErrorCodes.ApiKeyUnknown, 'unauthenticated', 'The X-Api-Key is not a known store key.');
    if (store !== storeId) {
      return new DomainError(StockErrorCodes.WrongStore, 'forbidden', `This API key belongs to another store than "${storeId.slice(0, 64)}".`);
    }
    return undefined;
  }
}

function refuse(request: FastifyRequest, reply: FastifyReply, body: ErrorBody, headers: Record<string, string> = {}): void {
  // The body will not be read: close the connection rather than drain an upload nobody wants.
  sendError(request, reply.code(body.statusCode), body, { ...headers, connection: 'close' });
}
