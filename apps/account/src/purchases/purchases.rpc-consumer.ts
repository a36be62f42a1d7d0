import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel } from 'amqplib';
import {
  AccountRpcQueues,
  Exchanges,
  GetPurchaseRequest,
  ListPurchasesRequest,
  PlacePurchaseRequest,
  SagaQueues,
  SagaRoutingKeys,
} from '@app/contracts';
import { RABBITMQ_CONNECTION, RabbitConsumers } from '@app/messaging';
import { PurchasesService } from './purchases.service';

@Injectable()
export class PurchasesRpcConsumer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PurchasesRpcConsumer.name);
  private topology?: ChannelWrapper;

  constructor(
    private readonly consumers: RabbitConsumers,
    private readonly purchases: PurchasesService,
    @Inject(RABBITMQ_CONNECTION) private readonly connection: AmqpConnectionManager,
  ) {}

  onModuleInit(): void {
    this.consumers.register({
      queue: AccountRpcQueues.PlacePurchase,
      contract: PlacePurchaseRequest,
      rpc: true,
      handle: (request) => this.purchases.place(request),
    });
    this.consumers.register({
      queue: AccountRpcQueues.GetPurchase,
      contract: GetPurchaseRequest,
      rpc: true,
      handle: (request) => this.purchases.get(request.userId, request.purchaseId),
    });
    this.consumers.register({
      queue: AccountRpcQueues.WaitPurchase,
      contract: GetPurchaseRequest,
      rpc: true,
      // Each long poll holds its delivery while it waits (the api caps how many a user may hold).
      prefetch: 1_000,
      handle: (request) => this.purchases.get(request.userId, request.purchaseId, request.waitMs),
    });
    this.consumers.register({
      queue: AccountRpcQueues.ListPurchases,
      contract: ListPurchasesRequest,
      rpc: true,
      handle: (request) => this.purchases.list(request.userId, request.limit, request.pageToken),
    });
    // Shop's inbox is declared here too (as shop declares it), so a ReserveStock sent before shop
    // first started waits for it instead of being dropped as unroutable.
    this.topology = this.connection.createChannel({
      name: 'saga-topology',
      setup: async (ch: Channel) => {
        try {
          await ch.assertExchange(Exchanges.Commerce, 'topic', { durable: true });
          await ch.assertQueue(SagaQueues.Shop, { durable: true });
          for (const key of [SagaRoutingKeys.ReserveStock, SagaRoutingKeys.VoidReservation]) await ch.bindQueue(SagaQueues.Shop, Exchanges.Commerce, key);
        } catch (error) {
          this.logger.warn({ msg: `cannot declare ${SagaQueues.Shop}`, err: (error as Error).message });
        }
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.topology?.close();
  }
}
