import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { MailerRpc, UnwatchSkuRequest, WatchlistChanged, WatchSkuRequest } from '@app/contracts';
import { RabbitRpc } from '@app/messaging';
import { WatchlistService } from './watchlist.service';

/** The api's watchlist endpoints, answered over RabbitMQ RPC. */
@Controller()
export class WatchlistController {
  constructor(private readonly watchlist: WatchlistService) {}

  @RabbitRpc(MailerRpc.Watch)
  watch(@Payload() request: WatchSkuRequest): Promise<WatchlistChanged> {
    return this.watchlist.watch(request);
  }

  @RabbitRpc(MailerRpc.Unwatch)
  unwatch(@Payload() request: UnwatchSkuRequest): Promise<WatchlistChanged> {
    return this.watchlist.unwatch(request);
  }
}
