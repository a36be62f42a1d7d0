import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Transform } from 'node:stream';
import { PAYMENT_SIGNATURE_HEADER } from './payment-signature';
import { TopUpsService } from './top-ups.service';

/** The provider's route (its full path, as Fastify names the matched route). */
export const PAYMENT_WEBHOOK_ROUTE = '/v1/payments/webhook';

const RAW_BODY = Symbol('payment-webhook-raw-body');
type WithRawBody = FastifyRequest & { [RAW_BODY]?: Buffer };

/** The webhook's body bytes exactly as they arrived, once their signature checked out; undefined when it had no body. */
export function rawBodyOf(request: FastifyRequest): Buffer | undefined {
  return (request as WithRawBody)[RAW_BODY];
}

/**
 * Keeps the raw bytes of the webhook's body, which the signature is computed over (re-serialising
 * the parsed JSON would not give them back), and checks the signature as soon as the last byte is
 * in: a forged delivery is refused with 401 before its body is parsed, so a malformed body is a 400
 * only for a sender who holds the secret. A Fastify `preParsing` hook on this one route, passing
 * the stream through unchanged, so the body limit and the JSON parser stay the app's own.
 */
@Injectable()
export class WebhookRawBody implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly topUps: TopUpsService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (typeof fastify?.addHook !== 'function') return;
    fastify.addHook('preParsing', (request, _reply, payload, done) => {
      if (request.method !== 'POST' || request.routeOptions.url !== PAYMENT_WEBHOOK_ROUTE) return done(null, payload);
      const chunks: Buffer[] = [];
      const topUps = this.topUps;
      const tee = new Transform({
        transform(chunk: Buffer, _encoding, next) {
          chunks.push(chunk);
          next(null, chunk);
        },
        flush(next) {
          const raw = Buffer.concat(chunks);
          try {
            topUps.assertSigned(request.headers[PAYMENT_SIGNATURE_HEADER], raw);
            (request as WithRawBody)[RAW_BODY] = raw;
            next();
          } catch (error) {
            next(error as Error);
          }
        },
      });
      // The parser listens for the refusal; when nothing parses the body (a request without one) the
      // stream still ends and fails, and that must not be an uncaught error: the route refuses it itself.
      tee.on('error', () => undefined);
      payload.on('error', (error) => tee.destroy(error));
      done(null, payload.pipe(tee));
    });
  }
}
