import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
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
