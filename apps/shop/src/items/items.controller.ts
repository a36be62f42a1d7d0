import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ChangePriceRequest, CreateItemRequest, GetItemRequest, ListItemsRequest, RestockItemRequest, ShopRpc } from '@app/contracts';
import { RabbitRpc } from '@app/messaging';
import { ItemsService } from './items.service';

/** The catalog's request/reply operations; one method per operation, the service does the work. */
@Controller()
export class ItemsController {
  constructor(private readonly items: ItemsService) {}

  @RabbitRpc(ShopRpc.GetItem)
  get(@Payload() request: GetItemRequest) {
    return this.items.get(request.sku);
  }

  @RabbitRpc(ShopRpc.CreateItem)
  create(@Payload() request: CreateItemRequest) {
    return this.items.create(request);
  }

  @RabbitRpc(ShopRpc.RestockItem)
  restock(@Payload() request: RestockItemRequest) {
    return this.items.restock(request);
  }

  @RabbitRpc(ShopRpc.ChangePrice)
  changePrice(@Payload() request: ChangePriceRequest) {
    return this.items.changePrice(request);
  }

  @RabbitRpc(ShopRpc.ListItems)
  list(@Payload() request: ListItemsRequest) {
    return this.items.list(request);
  }
}
