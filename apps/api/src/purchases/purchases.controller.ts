import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { UuidPath } from '@app/http';
import { Auth, AuthUser, CurrentUser } from '../auth';
import { CreatePurchaseRequestDto, GetPurchaseQueryDto, ListPurchasesQueryDto } from './dto/purchases.request.dto';
import { idempotencyKey } from './idempotency-key';
import { PurchasesService } from './purchases.service';

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
}
