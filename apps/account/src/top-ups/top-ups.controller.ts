import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AccountRpc, ApplyPaymentEventRequest, CreateTopUpRequest, GetTopUpRequest } from '@app/contracts';
import { TopUpCountsRepository } from './top-up-counts.repository';
import { RabbitRpc } from '@app/messaging';
import { TopUpsService } from './top-ups.service';

/** Top-ups over RabbitMQ RPC: the user's intents, and the provider's events the api has verified. */
@Controller()
export class TopUpsController {
  constructor(
    private readonly topUps: TopUpsService,
    private readonly counts: TopUpCountsRepository,
  ) {}

  @RabbitRpc(AccountRpc.CreateTopUp)
  create(@Payload() request: CreateTopUpRequest) {
    return this.topUps.create(request.userId, request.topUpId, request.amount);
  }

  @RabbitRpc(AccountRpc.GetTopUp)
  get(@Payload() request: GetTopUpRequest) {
    return this.topUps.get(request.userId, request.topUpId);
  }

  @RabbitRpc(AccountRpc.ApplyPaymentEvent)
  applyPaymentEvent(@Payload() request: ApplyPaymentEventRequest) {
    return this.topUps.applyPaymentEvent(request);
  }

  @RabbitRpc(AccountRpc.TopUpCounts)
  topUpCounts() {
    return this.counts.all();
  }
}
