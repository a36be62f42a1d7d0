import { Injectable } from '@nestjs/common';
import { MailerRpcQueues, UnwatchSkuRequest, WatchlistChanged, WatchSkuRequest } from '@app/contracts';
import { RabbitRpcClient } from '@app/messaging';
import type { AuthUser } from '../auth';

const RPC_TIMEOUT_MS = 5_000;

/** The watchlist is kept by the mailer (the one that mails the watchers); the api asks it over RPC. */
@Injectable()
export class WatchlistService {
  constructor(private readonly rpc: RabbitRpcClient) {}

  async watch(user: AuthUser, sku: string): Promise<void> {
    const request: WatchSkuRequest = { userId: user.id, email: user.email, sku };
    await this.rpc.request<WatchlistChanged>(MailerRpcQueues.Watch, request, { timeoutMs: RPC_TIMEOUT_MS });
  }

  async unwatch(user: AuthUser, sku: string): Promise<void> {
    const request: UnwatchSkuRequest = { userId: user.id, sku };
    await this.rpc.request<WatchlistChanged>(MailerRpcQueues.Unwatch, request, { timeoutMs: RPC_TIMEOUT_MS });
  }
}
