import { Injectable } from '@nestjs/common';
import { ServerGrpc } from '@nestjs/microservices';
import { inventoryGrpcOptions } from '@app/contracts/shop/inventory-grpc';
import { ShopEnv } from '../config/shop.env';

/** `host:port` for gRPC, an IPv6 host in brackets. */
export function grpcAddress(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Nest's gRPC transport (`Transport.GRPC`) on SHOP_GRPC_PORT, bound to HOST like the HTTP port.
 * A provider, so that runApp connects it as one more microservice of the shop app, like its
 * RabbitMQ transport: its handlers share the app's providers, and it starts once HTTP listens.
 * On shutdown it lets calls in flight finish (each has its caller's deadline).
 */
@Injectable()
export class InventoryGrpcServer extends ServerGrpc {
  constructor(env: ShopEnv) {
    super({ ...inventoryGrpcOptions(grpcAddress(env.HOST, env.SHOP_GRPC_PORT)), gracefulShutdown: true });
  }
}
