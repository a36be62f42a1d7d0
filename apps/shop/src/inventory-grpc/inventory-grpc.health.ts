import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ClientGrpcProxy } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { InventoryClientStub, InventoryGrpc, inventoryGrpcOptions } from '@app/contracts/shop/inventory-grpc';
import { probe, ReadinessIndicator } from '@app/observability';
import { ShopEnv } from '../config/shop.env';
import { grpcAddress, inventoryGrpcBinding } from './inventory-grpc.server';

const CHECK_MS = 2_500;

/**
 * Ready when shop's own gRPC server answers a call (an empty CheckLines, which reads nothing)
 * through a loopback channel, as a client would reach it. A fresh channel after a failure.
 */
@Injectable()
export class InventoryGrpcHealthIndicator implements ReadinessIndicator, OnModuleDestroy {
  readonly key = 'grpc';
  private client?: ClientGrpcProxy;

  constructor(
    private readonly env: ShopEnv,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check() {
    return probe(this.indicators, this.key, CHECK_MS, async () => {
      this.client ??= new ClientGrpcProxy(inventoryGrpcOptions(grpcAddress(this.loopbackHost(), this.env.SHOP_GRPC_PORT)));
      const stub = this.client.getService<InventoryClientStub>(InventoryGrpc.service);
      try {
        await firstValueFrom(stub.checkLines({ lines: [] }, { deadline: Date.now() + CHECK_MS - 100 }));
      } catch (error) {
        this.client.close();
        this.client = undefined;
        throw error;
      }
      // The port answers; when another process holds it, this instance serves HTTP and the saga only.
      return inventoryGrpcBinding.servedHere ? { port: this.env.SHOP_GRPC_PORT } : { port: this.env.SHOP_GRPC_PORT, servedBy: 'another process' };
    });
  }

  onModuleDestroy(): void {
    this.client?.close();
  }

  /** A wildcard bind is reached on loopback. */
  private loopbackHost(): string {
    if (this.env.HOST === '0.0.0.0') return '127.0.0.1';
    if (this.env.HOST === '::') return '::1';
    return this.env.HOST;
  }
}
