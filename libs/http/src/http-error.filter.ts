import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { DomainError, DomainErrorKind } from '@app/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The one error body every endpoint answers with (docs/api.md). Beyond the contract's fields it
 * names the error's stable `code` when there is one (`ITEM.NOT_FOUND`), and the request's
 * `correlationId`, which every log line of the request carries too.
 */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown[];
  code?: string;
  correlationId?: string;
}

const STATUS_BY_KIND: Record<DomainErrorKind, number> = {
  invalid: HttpStatus.BAD_REQUEST,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  unsupported: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function errorBody(statusCode: number, message: string, details?: unknown[]): ErrorBody {
  const body: ErrorBody = { statusCode, error: REASON[statusCode] ?? 'Error', message };
  if (details && details.length > 0) body.details = details;
  return body;
}

/** Maps every thrown error to {@link ErrorBody}; unexpected ones are logged and become a 500. */
export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof DomainError) {
    return { ...errorBody(STATUS_BY_KIND[exception.kind], exception.message, exception.details), code: exception.code };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'object' && response !== null) {
      // Terminus answers with its own documented body, which names the failing indicator.
      if (!('message' in response)) return response as ErrorBody;
      const { message, details } = response as { message?: unknown; details?: unknown[] };
      if (Array.isArray(message)) {
        // class-validator's list: the first problem as the message, all of them as details.
        return errorBody(status, `Invalid request: ${message.join('; ')}`, message);
      }
      return errorBody(status, typeof message === 'string' ? message : exception.message, details);
    }
    return errorBody(status, String(response));
  }
  // Fastify's own errors (body too large, unsupported content type, malformed JSON) carry a status.
  const fastifyStatus = (exception as { statusCode?: unknown })?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    return errorBody(fastifyStatus, friendlyFastifyMessage(exception as Error & { code?: string }));
  }
  if (isDependencyFailure(exception)) return errorBody(503, UNAVAILABLE_MESSAGE);
  return errorBody(500, 'An unexpected error occurred; it has been logged. Try again later.');
}

/** What a 503 says: the cause (a driver's or a broker's words) goes to the log, with the correlation id. */
export const UNAVAILABLE_MESSAGE = 'A service this request needs is unavailable right now; try again shortly.';

const DEPENDENCY_ERROR = /^(NoHostAvailable|OperationTimedOut|BusyConnection|DriverInternal)Error$|^KafkaJS/;

/** A database, broker or network failure that escaped a service: the request may succeed later. */
function isDependencyFailure(exception: unknown): boolean {
  if (!(exception instanceof Error)) return false;
  const code = (exception as { code?: unknown }).code;
  return DEPENDENCY_ERROR.test(exception.name) || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT';
}

function friendlyFastifyMessage(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is larger than the limit of this endpoint.';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `Unsupported content type. ${error.message}`;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The request body is empty; send a JSON document.';
    default:
      return error.message;
  }
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const body = toErrorBody(exception);
    const status = exception instanceof HttpException ? exception.getStatus() : body.statusCode;
    if (status >= 500 && exception instanceof DomainError) this.logger.warn({ msg: 'answered 5xx', code: exception.code, err: exception.message });
    else if (status >= 500 && !(exception instanceof HttpException)) this.logger.error(exception as Error);
    const http = host.switchToHttp();
    sendError(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>().status(status), body);
  }
}

/** Sends an error body with the request's correlation id; for hooks that answer before any handler runs too. */
export function sendError(request: FastifyRequest, reply: FastifyReply, body: ErrorBody, headers: Record<string, string> = {}): void {
  void reply.headers({ ...headers, 'content-type': 'application/json' }).send({ ...body, correlationId: String(request.id) });
}
