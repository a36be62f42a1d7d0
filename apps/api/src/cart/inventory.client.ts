import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { ClientGrpc } from '@nestjs/microservices';
import { status } from '@grpc/grpc-js';
import { firstValueFrom } from 'rxjs';
import { CheckedLine, CheckLinesReply, InventoryClientStub, InventoryGrpc, RequestedLine } from '@app/contracts/shop/inventory-grpc';
import { ApiEnv } from '../config/api.env';
import { CartErrors } from './cart.errors';

/** The ClientsModule name of the gRPC client of shop's inventory. */
export const SHOP_INVENTORY = Symbol('SHOP_INVENTORY');

/**
 * shop's inventory check over Nest's gRPC transport, every call with a deadline of
 * SHOP_GRPC_DEADLINE_MS: a call past it, or shop unreachable, is a retryable DomainError (a 503
 * that says nothing was bought), never a request left waiting.
 */
@Injectable()
export class InventoryClient implements OnModuleInit {
  private readonly logger = new Logger(InventoryClient.name);
  private stub!: InventoryClientStub;

  constructor(
    @Inject(SHOP_INVENTORY) private readonly client: ClientGrpc,
    private readonly env: ApiEnv,
  ) {}

  onModuleInit(): void {
    this.stub = this.client.getService<InventoryClientStub>(InventoryGrpc.service);
  }

  /** One answer per line, in order. */
  async checkLines(lines: RequestedLine[]): Promise<CheckedLine[]> {
    const deadlineMs = this.env.SHOP_GRPC_DEADLINE_MS;
    let reply: CheckLinesReply;
    try {
      reply = await firstValueFrom(this.stub.checkLines({ lines }, { deadline: Date.now() + deadlineMs }));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === status.DEADLINE_EXCEEDED) throw CartErrors.shopTimeout(deadlineMs);
      this.logger.warn({ msg: 'inventory check failed', grpcStatus: code, err: (error as Error).message });
      throw CartErrors.shopUnavailable();
    }
    const answered = reply.lines ?? [];
    if (answered.length !== lines.length || answered.some((line, i) => line.sku !== lines[i].sku)) {
      this.logger.warn({ msg: 'inventory check answered other lines than asked', asked: lines.length, answered: answered.length });
      throw CartErrors.shopUnavailable();
    }
    return answered;
  }
}
