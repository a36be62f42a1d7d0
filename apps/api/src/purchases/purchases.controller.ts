import { Body, Controller, Get, Headers, HttpCode, HttpException, HttpStatus, Param, Post, Query, Res, Sse, SseSignal } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { EMPTY, Observable } from 'rxjs';
import { DomainError } from '@app/contracts';
import { UuidPath } from '@app/http';
import { Auth, AuthUser, CurrentUser } from '../auth';
import { CreatePurchaseRequestDto, GetPurchaseQueryDto, ListPurchasesQueryDto } from './dto/purchases.request.dto';
import { idempotencyKey } from './idempotency-key';
import { PurchaseStreamErrorCodes } from './purchase-followers';
import { PurchasesService, PurchaseStreamEvent } from './purchases.service';

/** Seconds a client refused a stream is told to wait before it tries again. */
const STREAM_RETRY_AFTER_S = 5;

@Controller('v1/purchases')
@Auth()
export class PurchasesController {
  constructor(private readonly purchases: PurchasesService) {}

  @Post()
  @HttpCode(202)
  async create(
    @CurrentUser() user: AuthUser,
    @Body() body: CreatePurchaseRequestDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const purchase = await this.purchases.place(user.id, body.sku, body.quantity, idempotencyKey(key));
    void reply.header('Location', `/v1/purchases/${purchase.purchaseId}`);
    return { purchaseId: purchase.purchaseId, status: purchase.status };
  }

  @Get()
  list(@CurrentUser() user: AuthUser, @Query() query: ListPurchasesQueryDto) {
    return this.purchases.list(user.id, query.limit, query.pageToken);
  }

  /** `?waitMs=`: a long poll, answered as soon as a PENDING purchase reaches its terminal status. */
  @Get(':purchaseId')
  get(@CurrentUser() user: AuthUser, @Param('purchaseId', UuidPath('purchase')) purchaseId: string, @Query() query: GetPurchaseQueryDto) {
    return this.purchases.get(user.id, purchaseId, query.waitMs);
  }

  /**
   * Server-sent events (Nest's `@Sse`): the guard's 401 and the read's 404 happen before the stream
   * starts, so they are the usual JSON error bodies. A client resuming after the terminal event
   * (`Last-Event-ID` is that status) gets 204, which tells an EventSource to stop reconnecting.
   */
  @Sse(':purchaseId/events')
  async events(
    @CurrentUser() user: AuthUser,
    @Param('purchaseId', UuidPath('purchase')) purchaseId: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @SseSignal() signal: AbortSignal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Observable<PurchaseStreamEvent>> {
    try {
      const stream = await this.purchases.stream(user.id, purchaseId, { lastEventId, signal });
      if (stream) return stream;
      void reply.status(HttpStatus.NO_CONTENT);
      return EMPTY;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.code === PurchaseStreamErrorCodes.InstanceFull) void reply.header('retry-after', String(STREAM_RETRY_AFTER_S));
      if (error.code === PurchaseStreamErrorCodes.TooManyForUser) {
        void reply.header('retry-after', String(STREAM_RETRY_AFTER_S));
        throw new HttpException(error.message, HttpStatus.TOO_MANY_REQUESTS);
      }
      throw error;
    }
  }
}
