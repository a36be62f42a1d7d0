import { Body, Controller, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { PaymentEventErrorFilter } from './payment-event-error.filter';
import { PAYMENT_SIGNATURE_HEADER } from './payment-signature';
import { TopUpsService } from './top-ups.service';
import { rawBodyOf } from './webhook-raw-body';

/**
 * The payment provider's webhook: no user token (the signature authenticates the sender). The
 * body is taken as it is (`unknown`, so the global pipe leaves it alone) and checked only after
 * the signature; 200 only once account has made the effect durable.
 */
@Controller('v1/payments')
export class PaymentWebhookController {
  constructor(private readonly topUps: TopUpsService) {}

  @Post('webhook')
  @HttpCode(200)
  @UseFilters(PaymentEventErrorFilter)
  async receive(@Req() request: FastifyRequest, @Body() body: unknown) {
    // The body's signature was checked as its last byte arrived; a request without a body never went through that check.
    if (rawBodyOf(request) === undefined) this.topUps.assertSigned(request.headers[PAYMENT_SIGNATURE_HEADER], Buffer.alloc(0));
    await this.topUps.receive(body);
    return { received: true };
  }
}
