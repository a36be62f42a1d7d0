import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AccountRpc,
  GetPurchaseRequest,
  ListPurchasesRequest,
  MessageContracts,
  PlacePurchaseRequest,
  ReservationVoided,
  StockReservationFailed,
  StockReserved,
} from '@app/contracts';
import { RabbitEvent, RabbitRpc } from '@app/messaging';
import { PurchaseOutcomesRepository } from './purchase-outcomes.repository';
import { PurchaseSagaService } from './purchase-saga.service';
import { PurchasesService } from './purchases.service';

/** Purchases: the api's requests over RPC, and shop's answers in the saga (a malformed one is dead-lettered at once with its reason). */
@Controller()
export class PurchasesController {
  constructor(
    private readonly purchases: PurchasesService,
    private readonly saga: PurchaseSagaService,
    private readonly outcomes: PurchaseOutcomesRepository,
  ) {}

  @RabbitRpc(AccountRpc.PlacePurchase)
  place(@Payload() request: PlacePurchaseRequest) {
    return this.purchases.place(request);
  }

  @RabbitRpc(AccountRpc.GetPurchase)
  get(@Payload() request: GetPurchaseRequest) {
    return this.purchases.get(request.userId, request.purchaseId);
  }

  /** Each long poll holds its delivery while it waits (the api caps how many a user may hold). */
  @RabbitRpc(AccountRpc.WaitPurchase)
  wait(@Payload() request: GetPurchaseRequest) {
    return this.purchases.get(request.userId, request.purchaseId, request.waitMs);
  }

  @RabbitRpc(AccountRpc.ListPurchases)
  list(@Payload() request: ListPurchasesRequest) {
    return this.purchases.list(request.userId, request.limit, request.pageToken);
  }

  @RabbitRpc(AccountRpc.PurchaseOutcomes)
  outcomesSoFar() {
    return this.outcomes.all();
  }

  @RabbitEvent(MessageContracts.StockReserved)
  stockReserved(@Payload() message: StockReserved) {
    return this.saga.onStockReserved(message);
  }

  @RabbitEvent(MessageContracts.StockReservationFailed)
  stockReservationFailed(@Payload() message: StockReservationFailed) {
    return this.saga.onStockReservationFailed(message);
  }

  @RabbitEvent(MessageContracts.ReservationVoided)
  reservationVoided(@Payload() message: ReservationVoided) {
    return this.saga.onReservationVoided(message);
  }
}
