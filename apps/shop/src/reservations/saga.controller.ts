import { Controller, Logger } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { MessageContracts, ReservationVoided, ReserveStock, SagaLine, StockReservationFailed, StockReserved, VoidReservation } from '@app/contracts';
import { RabbitClient, RabbitContext, RabbitEvent, RabbitRecord } from '@app/messaging';
import { SagaCommand, SagaOutcome } from './reservation';
import { ReservationsService } from './reservations.service';

/** The purchase's lines: its `lines`, or its one sku. */
function linesOf(m: ReserveStock | VoidReservation): SagaLine[] {
  return m.lines && m.lines.length > 0 ? m.lines : [{ sku: m.sku, quantity: m.quantity }];
}

/** Shop's side of the purchase saga: answers every command on `shop.saga` once its decision is durable. */
@Controller()
export class SagaController {
  private readonly logger = new Logger(SagaController.name);

  constructor(
    private readonly rabbit: RabbitClient,
    private readonly reservations: ReservationsService,
  ) {}

  @RabbitEvent(MessageContracts.ReserveStock)
  reserve(@Payload() m: ReserveStock, @Ctx() context: RabbitContext): Promise<void> {
    return this.handle('reserve', m, context);
  }

  @RabbitEvent(MessageContracts.VoidReservation)
  void(@Payload() m: VoidReservation, @Ctx() context: RabbitContext): Promise<void> {
    return this.handle('void', m, context);
  }

  private async handle(type: SagaCommand['type'], m: ReserveStock | VoidReservation, { meta }: RabbitContext): Promise<void> {
    const commands = linesOf(m).map((line): SagaCommand => ({ type, purchaseId: m.purchaseId, sku: line.sku, quantity: line.quantity }));
    const outcome = await this.reservations.handleAll(commands);
    this.logger.log({ msg: 'saga command answered', command: type, purchaseId: m.purchaseId, sku: m.sku, lines: commands.length, outcome: outcome.type });
    await this.reply(outcome, meta.correlationId);
  }

  private async reply(outcome: SagaOutcome, correlationId: string): Promise<void> {
    // Ids derived from the purchase: a repeated answer is recognisably the same answer.
    const options = (kind: string) => ({ messageId: `${kind}:${outcome.purchaseId}`, correlationId });
    switch (outcome.type) {
      case 'reserved': {
        const reply: StockReserved = { purchaseId: outcome.purchaseId, sku: outcome.sku, quantity: outcome.quantity };
        return this.rabbit.dispatch(MessageContracts.StockReserved, new RabbitRecord(reply, options('stock-reserved')));
      }
      case 'failed': {
        const reply: StockReservationFailed = { purchaseId: outcome.purchaseId, code: outcome.code, reason: outcome.reason };
        return this.rabbit.dispatch(MessageContracts.StockReservationFailed, new RabbitRecord(reply, options('stock-reservation-failed')));
      }
      case 'voided': {
        const reply: ReservationVoided = { purchaseId: outcome.purchaseId };
        return this.rabbit.dispatch(MessageContracts.ReservationVoided, new RabbitRecord(reply, options('reservation-voided')));
      }
    }
  }
}
