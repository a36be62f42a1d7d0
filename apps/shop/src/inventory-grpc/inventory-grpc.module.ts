import { Module } from '@nestjs/common';
import { ItemsModule } from '../items/items.module';
import { InventoryController } from './inventory.controller';
import { InventoryGrpcServer } from './inventory-grpc.server';
import { InventoryService } from './inventory.service';

/** The inventory check the api calls at checkout, served over gRPC (libs/contracts/src/shop/inventory.proto). */
@Module({
  imports: [ItemsModule],
  controllers: [InventoryController],
  providers: [InventoryService, InventoryGrpcServer],
  exports: [InventoryGrpcServer],
})
export class InventoryGrpcModule {}
