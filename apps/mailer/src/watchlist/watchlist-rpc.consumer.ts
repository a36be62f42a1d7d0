import { Injectable, OnModuleInit } from '@nestjs/common';
import { MailerRpcQueues, UnwatchSkuRequest, WatchSkuRequest } from '@app/contracts';
import { RabbitConsumers } from '@app/messaging';
import { WatchlistService } from './watchlist.service';

/** The api's watchlist endpoints, answered over RabbitMQ RPC. */
@Injectable()
export class WatchlistRpcConsumer implements OnModuleInit {
  constructor(
    private readonly consumers: RabbitConsumers,
    private readonly watchlist: WatchlistService,
  ) {}

  onModuleInit(): void {
    this.consumers.register({ queue: MailerRpcQueues.Watch, contract: WatchSkuRequest, rpc: true, handle: (m) => this.watchlist.watch(m) });
    this.consumers.register({ queue: MailerRpcQueues.Unwatch, contract: UnwatchSkuRequest, rpc: true, handle: (m) => this.watchlist.unwatch(m) });
  }
}
