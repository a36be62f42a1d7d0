import { Injectable } from '@nestjs/common';
import { MailerRpc, UnwatchSkuRequest, WatchSkuRequest } from '@app/contracts';
import { RabbitClient } from '@app/messaging';
import type { AuthUser } from '../auth';

/** The watchlist is kept by the mailer (the one that mails the watchers); the api asks it over RPC. */
@Injectable()
export class WatchlistService {
  constructor(private readonly rabbit: RabbitClient) {}

  async watch(user: AuthUser, sku: string): Promise<void> {
    const request: WatchSkuRequest = { userId: user.id, email: user.email, sku };
    await this.rabbit.request(MailerRpc.Watch, request);
  }

  async unwatch(user: AuthUser, sku: string): Promise<void> {
    const request: UnwatchSkuRequest = { userId: user.id, sku };
    await this.rabbit.request(MailerRpc.Unwatch, request);
  }
}
