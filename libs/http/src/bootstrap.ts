import { DynamicModule, INestApplication, Type, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  CORRELATION_HEADER,
  createLogger,
  httpRequestDuration,
  initMetrics,
  PinoNestLogger,
  runWithCorrelation,
} from '@app/observability';
import { HttpErrorFilter } from './http-error.filter';

export interface HttpAppOptions {
  /** The app's name, on every log line and metric. */
  app: string;
  host: string;
  port: number;
  logLevel: string;
  /** Largest request body, in bytes (Fastify's default is 1 MiB). */
  bodyLimit?: number;
  /** Runs after the app is created and before it listens: parsers, microservices, hooks. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

/**
 * Creates, configures and starts one app the same way everywhere: Fastify, pino JSON logs,
 * correlation ids, the global validation pipe and error filter, shutdown hooks, and HTTP up
 * before any microservice transport so handlers never run before modules are initialised.
 */
export async function startHttpApp(module: Type<unknown> | DynamicModule, options: HttpAppOptions): Promise<NestFastifyApplication> {
  initMetrics(options.app);
  const logger = createLogger(options.app, options.logLevel);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    disableRequestLogging: true,
    bodyLimit: options.bodyLimit,
    requestIdHeader: CORRELATION_HEADER,
    genReqId: () => randomUUID(),
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: new PinoNestLogger(logger),
  });

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(CORRELATION_HEADER, request.id);
    runWithCorrelation({ correlationId: String(request.id) }, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequestDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (route !== '/metrics' && !route.startsWith('/health')) {
      request.log.info(
        { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'request completed',
      );
    }
    done();
  });

  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new HttpErrorFilter());
  await options.configure?.(app);

  await app.listen(options.port, options.host);
  await app.startAllMicroservices();
  closeOnSignals(app, logger);
  logger.info({ url: `http://${options.host}:${options.port}` }, `${options.app} is listening`);
  return app;
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
    app.close().then(
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
