import { Injectable, OnModuleInit } from '@nestjs/common';
import { ChangePriceRequest, CreateItemRequest, GetItemRequest, ListItemsRequest, RestockItemRequest, ShopRpcQueues } from '@app/contracts';
import { RabbitConsumers } from '@app/messaging';
import { ItemsService } from './items.service';

/** The catalog's request/reply queues; one line per operation, the service does the work. */
@Injectable()
export class ItemsRpcConsumer implements OnModuleInit {
  constructor(
    private readonly consumers: RabbitConsumers,
    private readonly items: ItemsService,
  ) {}

  onModuleInit(): void {
    this.consumers.register({ queue: ShopRpcQueues.GetItem, rpc: true, contract: GetItemRequest, handle: (m) => this.items.get(m.sku) });
    this.consumers.register({ queue: ShopRpcQueues.CreateItem, rpc: true, contract: CreateItemRequest, handle: (m) => this.items.create(m) });
    this.consumers.register({ queue: ShopRpcQueues.RestockItem, rpc: true, contract: RestockItemRequest, handle: (m) => this.items.restock(m) });
    this.consumers.register({ queue: ShopRpcQueues.ChangePrice, rpc: true, contract: ChangePriceRequest, handle: (m) => this.items.changePrice(m) });
    this.consumers.register({ queue: ShopRpcQueues.ListItems, rpc: true, contract: ListItemsRequest, handle: (m) => this.items.list(m) });
  }
}
