import 'reflect-metadata';
import { loadEnv } from '@app/config';
import { runApp } from '@app/http';
import { IngestEnv } from './config/ingest.env';
import { describeJsonError, MAX_BODY_BYTES } from './stock-events/event-readers';
import { StoreApiKeyCheck } from './stock-events/store-api-key.hook';
import { IngestModule } from './ingest.module';

const env = loadEnv('ingest', IngestEnv);
runApp(IngestModule.forEnv(env), {
  app: 'ingest',
  env,
  port: env.INGEST_PORT,
  bodyLimit: MAX_BODY_BYTES,
  // Never before the body and event limits (413): every value takes at least a byte.
  maxJsonValues: MAX_BODY_BYTES,
  configure: (app) => {
    const fastify = app.getHttpAdapter().getInstance();
    // The store key is checked before the body is read.
    fastify.addHook('onRequest', app.get(StoreApiKeyCheck).onRequest);
    // CSV, NDJSON and anything else reach the handler as the raw stream: read line by line, never buffered whole.
    fastify.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    // JSON (bounded by bodyLimit) with a parse error that says where it failed.
    app.useBodyParser('application/json', { bodyLimit: MAX_BODY_BYTES }, (_request, body, done) => {
      try {
        done(null, JSON.parse(body.toString('utf8')));
      } catch (error) {
        done(Object.assign(new Error(describeJsonError(body.toString('utf8'), error as Error)), { statusCode: 400 }), undefined);
      }
    });
  },
});
