import 'reflect-metadata';
import { loadEnv } from '@app/config';
import { runApp } from '@app/http';
import { IngestEnv } from './config/ingest.env';
import { describeJsonError, MAX_BODY_BYTES } from './stock-events/event-readers';
import { IngestModule } from './ingest.module';

const env = loadEnv('ingest', IngestEnv);
runApp(IngestModule.forEnv(env), {
  app: 'ingest',
  host: env.HOST,
  port: env.INGEST_PORT,
  logLevel: env.LOG_LEVEL,
  bodyLimit: MAX_BODY_BYTES,
  configure: (app) => {
    // CSV, NDJSON and anything else reach the handler as the raw stream: read line by line, never buffered whole.
    app.getHttpAdapter().getInstance().addContentTypeParser('*', (_request, payload, done) => done(null, payload));
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
