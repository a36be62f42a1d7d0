import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ShopErrorCodes } from '@app/contracts';
import { NamePath } from '@app/http';
import { Auth, AuthUser, CurrentUser } from '../auth';
import { idempotencyKey } from '../purchases/idempotency-key';
import { CartService } from './cart.service';
import { CheckoutRequestDto, SetCartLineRequestDto } from './dto/cart.request.dto';

/** The signed-in user's cart (API.md, Cart). */
@Controller('v1/me/cart')
@Auth()
export class CartController {
  constructor(private readonly cart: CartService) {}

  @Get()
  view(@CurrentUser() user: AuthUser) {
    return this.cart.view(user.id);
  }

  @Put('items/:sku')
  setLine(@CurrentUser() user: AuthUser, @Param('sku', NamePath('item', ShopErrorCodes.NotFound)) sku: string, @Body() body: SetCartLineRequestDto) {
    return this.cart.setLine(user.id, sku, body.quantity);
  }

  @Delete('items/:sku')
  removeLine(@CurrentUser() user: AuthUser, @Param('sku', NamePath('item', ShopErrorCodes.NotFound)) sku: string) {
    return this.cart.removeLine(user.id, sku);
  }

  @Delete()
  @HttpCode(204)
  clear(@CurrentUser() user: AuthUser): Promise<void> {
    return this.cart.clear(user.id);
  }

  @Post('checkout')
  @HttpCode(202)
  async checkout(
    @CurrentUser() user: AuthUser,
    @Body() body: CheckoutRequestDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const purchase = await this.cart.checkout(user.id, body.expectedTotal, idempotencyKey(key));
    void reply.header('Location', `/v1/purchases/${purchase.purchaseId}`);
    return { purchaseId: purchase.purchaseId, status: purchase.status };
  }
}
