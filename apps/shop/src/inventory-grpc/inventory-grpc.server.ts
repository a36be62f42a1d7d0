import { Injectable, Logger } from '@nestjs/common';
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
  private readonly log = new Logger(InventoryGrpcServer.name);

  constructor(private readonly env: ShopEnv) {
    super({ ...inventoryGrpcOptions(grpcAddress(env.HOST, env.SHOP_GRPC_PORT)), gracefulShutdown: true });
  }

  /**
   * A second shop on the same host finds the gRPC port taken by the first: it then serves the saga
   * and its HTTP port without the inventory check (the api calls one address, SHOP_GRPC_URL, which
   * the first serves), says so, and readiness tells who serves the port, instead of failing to start.
   */
  override async listen(callback: (error?: unknown, ...rest: unknown[]) => void): Promise<void> {
    await super.listen((error?: unknown, ...rest: unknown[]) => {
      if (!isAddressInUse(error)) return callback(error, ...rest);
      inventoryGrpcBinding.servedHere = false;
      this.log.warn(
        `gRPC port ${this.env.SHOP_GRPC_PORT} is in use by another process: this shop instance serves no inventory checks ` +
          '(set SHOP_GRPC_PORT to a free port for it to serve them)',
      );
      callback();
    });
  }
}

/** Whether this process serves the inventory check on SHOP_GRPC_PORT (false: the port was taken). */
export const inventoryGrpcBinding = { servedHere: true };

/** grpc-js reports a port in use as "No address added ... [listen EADDRINUSE: ...]". */
function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && /EADDRINUSE/.test(error.message);
}
