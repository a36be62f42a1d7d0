import 'reflect-metadata';
import { loadEnv } from '@app/config';
import { runApp } from '@app/http';
import { KafkaServer, RabbitServer } from '@app/messaging';
import { MailerEnv } from './config/mailer.env';
import { MailerModule } from './mailer.module';

const env = loadEnv('mailer', MailerEnv);
runApp(MailerModule.forEnv(env), { app: 'mailer', env, port: env.MAILER_PORT, transports: [RabbitServer, KafkaServer] });
