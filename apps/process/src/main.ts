import 'reflect-metadata';
import { loadEnv } from '@app/config';
import { runApp } from '@app/http';
import { KafkaServer } from '@app/messaging';
import { ProcessEnv } from './config/process.env';
import { ProcessModule } from './process.module';

const env = loadEnv('process', ProcessEnv);
runApp(ProcessModule.forEnv(env), { app: 'process', env, port: env.PROCESS_PORT, transports: [KafkaServer] });
