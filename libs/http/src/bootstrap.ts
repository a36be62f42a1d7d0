import { ArgumentMetadata, BadRequestException, DynamicModule, HttpException, INestApplication, Type, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Context, type Span, SpanStatusCode } from '@opentelemetry/api';
import { FastifyRequest, LogController } from 'fastify';
import http from 'node:http';
import type { Logger } from 'pino';
import type { BaseEnv } from '@app/config';
import {
  acceptCorrelationId,
  CORRELATION_HEADER,
  createLogger,
  httpRequestDuration,
  initMetrics,
  extractTraceContext,
  endEntrySpan,
  PinoNestLogger,
  runInContext,
  runWithCorrelation,
  SpanKind,
  startEntrySpan,
  startTracing,
  stopTracing,
  tracingOn,
} from '@app/observability';
import { errorBody, HttpErrorFilter, sendError } from './http-error.filter';
import { jsonShapeProblem, MAX_JSON_VALUES } from './json-shape';
import { useSecurityHeaders } from './security-headers';

export interface HttpAppOptions {
  /** The app's name, on every log line and metric. */
  app: string;
  /** The settings every app has: host, log level, request timeout. */
  env: BaseEnv;
  port: number;
  /** Largest request body, in bytes (Fastify's default is 1 MiB). */
  bodyLimit?: number;
  /** Largest number of values in a JSON body (the depth limit is always {@link MAX_JSON_DEPTH}). */
  maxJsonValues?: number;
  /** Runs after the app is created and before it listens: parsers, hooks. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
  /**
   * The app's message transports (Nest custom transport strategies provided by its modules, such
   * as `RabbitServer` and `KafkaServer`): each is connected as a microservice of this app, so its
   * decorated handlers share the app's providers, and starts once HTTP listens.
   */
  transports?: Type<CustomTransportStrategy>[];
}

/**
 * The HTTP server with every timeout set, so a client that sends slowly (or never finishes its
 * headers or body) is cut off instead of holding a connection and its memory forever.
 */
function serverWithTimeouts(requestTimeoutMs: number) {
  return (handler: http.RequestListener) =>
    http.createServer(
      {
        requestTimeout: requestTimeoutMs,
        headersTimeout: Math.min(requestTimeoutMs, 30_000),
        keepAliveTimeout: 5_000,
        // How often Node looks for requests past their timeout (its default is 30 s).
        connectionsCheckingInterval: Math.min(1_000, Math.ceil(requestTimeoutMs / 4)),
        // A request without Host is answered by the app with the usual error body, not by Node with an empty 400.
        requireHostHeader: false,
      },
      handler,
    );
}

/**
 * Creates, configures and starts one app the same way everywhere: Fastify with timeouts and
 * security headers, pino JSON logs, safe correlation ids, a shape guard on JSON bodies, the global
 * validation pipe and error filter, shutdown hooks, and HTTP up before any microservice transport
 * so handlers never run before modules are initialised.
 */
export async function startHttpApp(module: Type<unknown> | DynamicModule, options: HttpAppOptions): Promise<NestFastifyApplication> {
  const { env } = options;
  initMetrics(options.app);
  const logger = createLogger(options.app, env.LOG_LEVEL, { format: env.LOG_FORMAT, production: env.isProduction });
  logUnexpectedFailures(logger);
  // Before anything handles work, so that the first request and message are traced too (off unless OTEL_* says so).
  await startTracing(options.app, logger);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // Fastify's own per-request lines are off (onResponse below logs one line per request). Fastify
    // 5.12 deprecates the top-level disableRequestLogging (FSTDEP023, a warning on stderr at start).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    serverFactory: serverWithTimeouts(env.HTTP_REQUEST_TIMEOUT_MS),
    // Idle sockets are closed too, but never before the longest long poll (20 s) can be answered.
    connectionTimeout: Math.max(env.HTTP_REQUEST_TIMEOUT_MS * 2, 60_000),
    // The client's id is taken only when it is safe to copy into logs, AMQP properties and headers.
    requestIdHeader: false,
    genReqId: (request: http.IncomingMessage) => acceptCorrelationId(request.headers[CORRELATION_HEADER]),
    // Fastify 5.12 (Nest 12) answers a path parameter longer than maxParamLength (100) with its own
    // 414 before any hook runs: no security headers, not the app's error body. Without this handler
    // the router finds no route, as before 5.12, so such a path gets the app's usual 404 (a path id
    // that cannot be an id is a 404, docs/api.md). Fastify's types allow only a function here.
    routerOptions: { onMaxParamLength: null as never },
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: new PinoNestLogger(logger),
  });

  const fastify = app.getHttpAdapter().getInstance();
  useSecurityHeaders(fastify);
  const debugLogs = logger.isLevelEnabled('debug');
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(CORRELATION_HEADER, request.id);
    // Answers carry tokens and account data; none may be stored by a cache unless a route says so.
    void reply.header('cache-control', 'no-store');
    const correlation = { correlationId: String(request.id) };
    const traced = tracingOn() ? startHttpSpan(request, correlation.correlationId) : undefined;
    if (!traced) return runWithCorrelation(correlation, done);
    httpSpans.set(request, traced);
    runInContext(traced.context, () => runWithCorrelation(correlation, done));
  });
  // Before any DTO is built: class-transformer recurses, and a deeply nested body would overflow its stack.
  fastify.addHook('preValidation', (request, reply, done) => {
    const problem = jsonShapeProblem(request.body, options.maxJsonValues ?? MAX_JSON_VALUES);
    if (problem) return sendError(request, reply.code(400), errorBody(400, problem));
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    if (tracingOn()) endHttpSpan(request, reply.statusCode);
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequestDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    if (route !== '/metrics' && !route.startsWith('/health')) {
      // Every request at debug; at info only those a person should see: refused, failed or slow ones.
      // (A line per request at info cost the api about a tenth of its CPU on stock reads.)
      const notable = reply.statusCode >= 400 || reply.elapsedTime >= SLOW_REQUEST_MS;
      if (notable || debugLogs) {
        request.log[notable ? 'info' : 'debug'](
          { method: request.method, url: request.url.slice(0, 512), status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
          'request completed',
        );
      }
    }
    done();
  });
  // A client that went away before the answer: its span ends here (onResponse may never run).
  fastify.addHook('onRequestAbort', (request, done) => {
    if (tracingOn()) endHttpSpan(request, undefined);
    done();
  });

  app.useGlobalPipes(new InputValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new HttpErrorFilter());
  await options.configure?.(app);
  for (const transport of options.transports ?? []) app.connectMicroservice({ strategy: app.get(transport) });

  await app.listen(options.port, env.HOST);
  await app.startAllMicroservices();
  closeOnSignals(app, logger);
  logger.info({ url: `http://${env.HOST}:${options.port}` }, `${options.app} is listening`);
  return app;
}

/** A request that takes this long is logged at info whatever its status. */
const SLOW_REQUEST_MS = 1_000;

/** The server span of each request under way (tracing on only). */
const httpSpans = new WeakMap<FastifyRequest, { span: Span; context: Context }>();

/**
 * A server span per request, child of the caller's W3C trace context (`traceparent`); none for
 * health and metrics, which probes and scrapers call every few seconds.
 */
function startHttpSpan(request: FastifyRequest, correlationId: string): { span: Span; context: Context } | undefined {
  const route = request.routeOptions.url;
  if (route === '/metrics' || route?.startsWith('/health')) return undefined;
  const path = request.url.split('?', 1)[0].slice(0, 512);
  return startEntrySpan(
    {
      name: route ? `${request.method} ${route}` : request.method,
      kind: SpanKind.SERVER,
      correlationId,
      attributes: { 'http.request.method': request.method, 'url.path': path, 'url.scheme': 'http', ...(route ? { 'http.route': route } : {}) },
    },
    extractTraceContext(request.headers),
  );
}

/** Ends the request's span with its status (undefined: the client went away); a 5xx marks it failed. */
function endHttpSpan(request: FastifyRequest, status: number | undefined): void {
  const traced = httpSpans.get(request);
  if (!traced) return;
  httpSpans.delete(request);
  if (status === undefined) traced.span.setAttribute('http.request.aborted', true);
  else {
    traced.span.setAttribute('http.response.status_code', status);
    if (status >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
  }
  endEntrySpan(traced.span, traced.context);
}

/**
 * Nest's ValidationPipe, where a validator that throws on odd input (validator's isEmail on a lone
 * surrogate, say) is the client's 400, not the server's 500.
 */
class InputValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (error instanceof HttpException) throw error;
      throw new BadRequestException(`The request ${metadata.type} holds a value that cannot be checked (for example malformed Unicode).`);
    }
  }
}

/**
 * A rejection nobody handled, or an exception nobody caught, is logged with the correlation id of
 * the work it came from (when the error carries one or the context is still current). A rejection
 * does not end the process: one request's failure must not end everyone's service. An uncaught
 * exception leaves the process in an unknown state, so it is logged and the process exits for the
 * supervisor to restart it.
 */
function logUnexpectedFailures(logger: Logger): void {
  if (process.listenerCount('unhandledRejection') > 0) return;
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason, ...correlationOf(reason) }, 'unhandled promise rejection (the process goes on)');
  });
  process.on('uncaughtException', (error: Error) => {
    logger.fatal({ err: error, ...correlationOf(error) }, 'uncaught exception; exiting');
    process.exit(1);
  });
}

function correlationOf(reason: unknown): { correlationId?: string } {
  const carried = (reason as { correlationId?: unknown } | undefined)?.correlationId;
  return typeof carried === 'string' ? { correlationId: carried } : {};
}

/**
 * Graceful stop on SIGTERM/SIGINT: readiness fails first, consumers stop taking work and finish
 * what is in flight, clients close. A second signal while closing is ignored rather than
 * killing the process half-way (Ctrl-C reaches the apps both from the terminal and from the launcher).
 */
function closeOnSignals(app: NestFastifyApplication, logger: Logger): void {
  let closing = false;
  const close = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000);
    timer.unref();
    // Spans still buffered are exported once the app has closed (tracing on only).
    app
      .close()
      .then(stopTracing)
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
}

export type { INestApplication };

/** Starts the app; a failure to start is one clear line on stderr and exit code 1. */
export function runApp(module: Type<unknown> | DynamicModule, options: HttpAppOptions): void {
  startHttpApp(module, options).catch((error: unknown) => {
    process.stderr.write(`${options.app}: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
