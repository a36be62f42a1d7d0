import 'reflect-metadata';
import { loadEnv } from '@app/config';
import { runApp } from '@app/http';
import { RabbitServer } from '@app/messaging';
import { AccountEnv } from './config/account.env';
import { AccountModule } from './account.module';

const env = loadEnv('account', AccountEnv);
runApp(AccountModule.forEnv(env), { app: 'account', env, port: env.ACCOUNT_PORT, transports: [RabbitServer] });
