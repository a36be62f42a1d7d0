import { Injectable, OnModuleInit } from '@nestjs/common';
import { IsOptional, IsString, Length } from 'class-validator';
import {
  DomainError,
  Exchanges,
  ReservationVoided,
  SagaQueues,
  SagaRoutingKeys,
  validateAs,
  StockReservationFailed,
  StockReserved,
} from '@app/contracts';
import { MessageMeta, RabbitConsumers } from '@app/messaging';
import { PurchasesService } from './purchases.service';

/** What shop's three replies share; each is then checked against its own contract, told apart by routing key. */
class AccountSagaReply {
  @IsString() @Length(1, 64) purchaseId: string;
  @IsOptional() @IsString() sku?: string;
  @IsOptional() quantity?: number;
  @IsOptional() @IsString() code?: string;
  @IsOptional() @IsString() reason?: string;
}


/** Account's saga inbox: shop's answers. A malformed one is dead-lettered at once with its reason. */
@Injectable()
export class PurchaseSagaConsumer implements OnModuleInit {
  constructor(
    private readonly consumers: RabbitConsumers,
    private readonly purchases: PurchasesService,
  ) {}

  onModuleInit(): void {
    this.consumers.register({
      queue: SagaQueues.Account,
      bindings: [SagaRoutingKeys.StockReserved, SagaRoutingKeys.StockReservationFailed, SagaRoutingKeys.ReservationVoided].map(
        (routingKey) => ({ exchange: Exchanges.Commerce, routingKey }),
      ),
      contract: AccountSagaReply,
      retryDelaysMs: [500, 2_000, 5_000, 15_000, 30_000, 60_000],
      handle: (reply, meta) => this.handle(reply, meta),
    });
  }

  handle(reply: AccountSagaReply, meta: Pick<MessageMeta, 'routingKey'>): Promise<void> {
    switch (meta.routingKey) {
      case SagaRoutingKeys.StockReserved:
        return this.purchases.onStockReserved(validateAs(StockReserved, reply));
      case SagaRoutingKeys.StockReservationFailed:
        return this.purchases.onStockReservationFailed(validateAs(StockReservationFailed, reply));
      case SagaRoutingKeys.ReservationVoided:
        return this.purchases.onReservationVoided(validateAs(ReservationVoided, reply));
      default:
        throw new DomainError('MESSAGE.UNKNOWN_TYPE', 'invalid', `no handler for routing key "${meta.routingKey}" on ${SagaQueues.Account}`);
    }
  }
}
