import 'reflect-metadata';
import { loadEnv } from '@app/config';
import { runApp } from '@app/http';
import { IngestEnv } from './config/ingest.env';
import { IngestModule } from './ingest.module';

const env = loadEnv('ingest', IngestEnv);
runApp(IngestModule.forEnv(env), { app: 'ingest', host: env.HOST, port: env.INGEST_PORT, logLevel: env.LOG_LEVEL });
