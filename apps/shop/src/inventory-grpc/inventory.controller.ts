import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { status } from '@grpc/grpc-js';
import { checkContract } from '@app/contracts';
import { CheckLinesRequest, InventoryGrpc } from '@app/contracts/shop/inventory-grpc';
import { GrpcErrorsFilter } from './grpc-errors.filter';
import { InventoryService } from './inventory.service';

/** `retail.shop.inventory.v1.Inventory` over Nest's gRPC transport; the request is checked against its contract first. */
@Controller()
@UseFilters(GrpcErrorsFilter)
export class InventoryController {
  constructor(private readonly inventory: InventoryService) {}

  @GrpcMethod(InventoryGrpc.service, InventoryGrpc.methods.CheckLines)
  checkLines(request: unknown) {
    const checked = checkContract(CheckLinesRequest, request);
    if (!checked.ok) throw new RpcException({ code: status.INVALID_ARGUMENT, message: `invalid CheckLinesRequest: ${checked.problems}` });
    return this.inventory.checkLines(checked.value);
  }
}
