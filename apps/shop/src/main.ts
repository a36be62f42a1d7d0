import 'reflect-metadata';
import { loadEnv } from '@app/config';
import { runApp } from '@app/http';
import { RabbitServer } from '@app/messaging';
import { ShopEnv } from './config/shop.env';
import { InventoryGrpcServer } from './inventory-grpc/inventory-grpc.server';
import { ShopModule } from './shop.module';

const env = loadEnv('shop', ShopEnv);
runApp(ShopModule.forEnv(env), { app: 'shop', env, port: env.SHOP_PORT, transports: [RabbitServer, InventoryGrpcServer] });
