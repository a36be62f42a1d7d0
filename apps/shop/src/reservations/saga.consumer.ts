import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import {
  DomainError,
  Exchanges,
  ReservationVoided,
  ReserveStock,
  SagaQueues,
  SagaRoutingKeys,
  validateAs,
  StockReservationFailed,
  StockReserved,
  VoidReservation,
} from '@app/contracts';
import { MessageMeta, RabbitConsumers, RabbitPublisher } from '@app/messaging';
import { SagaCommand, SagaOutcome } from './reservation';
import { ReservationsService } from './reservations.service';

/** What ReserveStock and VoidReservation share; each is then checked against its own contract, told apart by routing key. */
class ShopSagaCommand {
  @IsString() @Length(1, 64) purchaseId: string;
  @IsString() @Length(1, 64) sku: string;
  @IsInt() @Min(1) @Max(100) quantity: number;
  @IsOptional() @IsISO8601() requestedAt?: string;
}


/** Shop's side of the purchase saga: answers every command on `shop.saga` once its decision is durable. */
@Injectable()
export class SagaConsumer implements OnModuleInit {
  private readonly logger = new Logger(SagaConsumer.name);

  constructor(
    private readonly consumers: RabbitConsumers,
    private readonly publisher: RabbitPublisher,
    private readonly reservations: ReservationsService,
  ) {}

  onModuleInit(): void {
    this.consumers.register({
      queue: SagaQueues.Shop,
      bindings: [
        { exchange: Exchanges.Commerce, routingKey: SagaRoutingKeys.ReserveStock },
        { exchange: Exchanges.Commerce, routingKey: SagaRoutingKeys.VoidReservation },
      ],
      contract: ShopSagaCommand,
      // Long enough to ride out a Cassandra restart; account re-sends on its own deadline anyway.
      retryDelaysMs: [500, 2_000, 5_000, 15_000, 30_000, 60_000],
      handle: (message, meta) => this.handle(message, meta),
    });
  }

  private async handle(message: ShopSagaCommand, meta: MessageMeta): Promise<void> {
    let command: SagaCommand;
    if (meta.routingKey === SagaRoutingKeys.ReserveStock) {
      const m = validateAs(ReserveStock, message);
      command = { type: 'reserve', purchaseId: m.purchaseId, sku: m.sku, quantity: m.quantity };
    } else if (meta.routingKey === SagaRoutingKeys.VoidReservation) {
      const m = validateAs(VoidReservation, message);
      command = { type: 'void', purchaseId: m.purchaseId, sku: m.sku, quantity: m.quantity };
    } else {
      throw new DomainError('MESSAGE.UNKNOWN_TYPE', 'invalid', `no handler for routing key "${meta.routingKey}" on ${SagaQueues.Shop}`);
    }
    const outcome = await this.reservations.handle(command);
    this.logger.log({ msg: 'saga command answered', command: command.type, purchaseId: command.purchaseId, sku: command.sku, outcome: outcome.type });
    await this.reply(outcome, meta);
  }

  private async reply(outcome: SagaOutcome, meta: MessageMeta): Promise<void> {
    // Ids derived from the purchase: a repeated answer is recognisably the same answer.
    const options = (kind: string) => ({ messageId: `${kind}:${outcome.purchaseId}`, correlationId: meta.correlationId });
    switch (outcome.type) {
      case 'reserved': {
        const reply: StockReserved = { purchaseId: outcome.purchaseId, sku: outcome.sku, quantity: outcome.quantity };
        return this.publisher.publish(Exchanges.Commerce, SagaRoutingKeys.StockReserved, reply, options('stock-reserved'));
      }
      case 'failed': {
        const reply: StockReservationFailed = { purchaseId: outcome.purchaseId, code: outcome.code, reason: outcome.reason };
        return this.publisher.publish(Exchanges.Commerce, SagaRoutingKeys.StockReservationFailed, reply, options('stock-reservation-failed'));
      }
      case 'voided': {
        const reply: ReservationVoided = { purchaseId: outcome.purchaseId };
        return this.publisher.publish(Exchanges.Commerce, SagaRoutingKeys.ReservationVoided, reply, options('reservation-voided'));
      }
    }
  }
}
