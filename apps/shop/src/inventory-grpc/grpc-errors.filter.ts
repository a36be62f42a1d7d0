import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { status } from '@grpc/grpc-js';
import { Observable, throwError } from 'rxjs';
import { DomainError, DomainErrorKind } from '@app/contracts';

const STATUS_BY_KIND: Partial<Record<DomainErrorKind, status>> = {
  invalid: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  conflict: status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
};

const DEPENDENCY_ERROR = /^(NoHostAvailable|OperationTimedOut|BusyConnection|DriverInternal|ResponseError)Error$/;

/**
 * gRPC answers with a status code, never a stack: a DomainError by its kind, a database failure as
 * UNAVAILABLE (the caller may try again), anything else as INTERNAL with the cause in the log.
 */
@Catch()
export class GrpcErrorsFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('GrpcErrorsFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    if (exception instanceof RpcException) return throwError(() => exception.getError());
    if (exception instanceof DomainError) {
      return throwError(() => ({ code: STATUS_BY_KIND[exception.kind] ?? status.UNKNOWN, message: exception.message }));
    }
    if (exception instanceof Error && DEPENDENCY_ERROR.test(exception.name)) {
      this.logger.warn({ msg: 'gRPC call failed on a dependency', err: exception.message });
      return throwError(() => ({ code: status.UNAVAILABLE, message: 'shop cannot read its inventory right now; try again shortly' }));
    }
    this.logger.error(exception as Error);
    return throwError(() => ({ code: status.INTERNAL, message: 'unexpected error in shop; it has been logged' }));
  }
}
