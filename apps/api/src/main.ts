import 'reflect-metadata';
import { loadEnv } from '@app/config';
import { runApp } from '@app/http';
import { KafkaServer, RabbitServer } from '@app/messaging';
import { ApiEnv } from './config/api.env';
import { ApiModule } from './api.module';

const env = loadEnv('api', ApiEnv);
runApp(ApiModule.forEnv(env), { app: 'api', env, port: env.API_PORT, transports: [RabbitServer, KafkaServer] });
