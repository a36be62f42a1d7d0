import { Module } from '@nestjs/common';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { inventoryGrpcOptions } from '@app/contracts/shop/inventory-grpc';
import { CatalogModule } from '../catalog/catalog.module';
import { ApiEnv } from '../config/api.env';
import { PurchasesModule } from '../purchases/purchases.module';
import { CartController } from './cart.controller';
import { CartRepository } from './cart.repository';
import { CartService } from './cart.service';
import { InventoryClient, SHOP_INVENTORY } from './inventory.client';

/** The cart (Redis) and its checkout, checked with shop over gRPC (Nest's transport, `ClientsModule`). */
@Module({
  imports: [
    CatalogModule,
    PurchasesModule,
    ClientsModule.registerAsync([
      {
        name: SHOP_INVENTORY,
        inject: [ApiEnv],
        useFactory: (env: ApiEnv) => ({
          transport: Transport.GRPC,
          options: {
            ...inventoryGrpcOptions(env.SHOP_GRPC_URL),
            // grpc-js backs off up to 2 minutes between reconnects by default: shop back after an outage
            // would stay unreachable for that long. Calls fail fast meanwhile, so retrying often is cheap.
            channelOptions: { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 2_000 },
          },
        }),
      },
    ]),
  ],
  controllers: [CartController],
  providers: [CartService, CartRepository, InventoryClient],
})
export class CartModule {}
