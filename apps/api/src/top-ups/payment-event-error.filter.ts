import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, TopUpErrorCodes } from '@app/contracts';
import { errorBody, HttpErrorFilter, sendError } from '@app/http';

/** Events that are authentic but name no top-up, or the wrong amount: the provider's operators must act, so 422. */
const UNPROCESSABLE = new Set<string>([TopUpErrorCodes.UnknownPaymentReference, TopUpErrorCodes.AmountMismatch]);

/** The webhook's errors: 422 for an event account cannot apply; everything else as on every route. */
@Catch()
export class PaymentEventErrorFilter implements ExceptionFilter {
  private readonly fallback = new HttpErrorFilter();

  catch(exception: unknown, host: ArgumentsHost): void {
    if (!(exception instanceof DomainError && UNPROCESSABLE.has(exception.code))) return this.fallback.catch(exception, host);
    const http = host.switchToHttp();
    sendError(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>().status(422), {
      ...errorBody(422, exception.message, exception.details),
      code: exception.code,
    });
  }
}
