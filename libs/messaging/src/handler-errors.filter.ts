import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';

/**
 * Hands a handler's error to the transport as it was thrown. Nest's default RPC filter turns any
 * error that is not an RpcException into `{ status: 'error', message: 'Internal server error' }`;
 * the transporters need the error itself: a DomainError's kind decides between complete, retry
 * and dead-letter, and travels back to an RPC caller. Applied by the handler decorators.
 */
@Catch()
export class HandlerErrorsFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}
