import { DynamicModule, Module } from '@nestjs/common';
import { join } from 'node:path';
import { KafkaConsumersHealthIndicator, KafkaHealthIndicator, KafkaModule, RabbitmqHealthIndicator, RabbitmqModule } from '@app/messaging';
import { CassandraHealthIndicator, CassandraModule } from '@app/cassandra';
import { RedisHealthIndicator, RedisModule } from '@app/http';
import { HealthModule, MetricsModule } from '@app/observability';
import { ApiEnv } from './config/api.env';
import { CartModule } from './cart/cart.module';
import { CatalogModule } from './catalog/catalog.module';
import { AuthModule } from './auth';
import { AccountsModule } from './accounts/accounts.module';
import { DocsModule } from './docs/docs.module';
import { OpsModule } from './ops/ops.module';
import { OpsPageModule } from './ops-page/ops-page.module';
import { PurchasesModule } from './purchases/purchases.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { WatchlistModule } from './watchlist/watchlist.module';
import { StockModule } from './stock/stock.module';
import { TopUpsModule } from './top-ups/top-ups.module';

@Module({})
export class ApiModule {
  static forEnv(env: ApiEnv): DynamicModule {
    return {
      module: ApiModule,
      global: true,
      imports: [
        KafkaModule.forRoot({ clientId: 'api', brokers: env.kafkaBrokers }),
        CassandraModule.forRoot({
          contactPoints: env.cassandraContactPoints,
          localDataCenter: env.CASSANDRA_LOCAL_DC,
          keyspace: 'api',
          replicationFactor: env.CASSANDRA_REPLICATION_FACTOR,
          migrationsDir: join(__dirname, 'migrations'),
        }),
        RabbitmqModule.forRoot({ url: env.RABBITMQ_URL, prefetch: env.RABBITMQ_PREFETCH, connectionName: 'api', rpcTimeoutMs: env.RPC_TIMEOUT_MS }),
        RedisModule.forRoot(env.REDIS_URL),
        HealthModule.forIndicators([
          KafkaHealthIndicator,
          KafkaConsumersHealthIndicator,
          CassandraHealthIndicator,
          RabbitmqHealthIndicator,
          RedisHealthIndicator,
        ]),
        MetricsModule,
        AuthModule,
        CatalogModule,
        RateLimitModule,
        AccountsModule,
        PurchasesModule,
        CartModule,
        OpsModule,
        OpsPageModule,
        WatchlistModule,
        StockModule,
        TopUpsModule,
        DocsModule,
      ],
      providers: [{ provide: ApiEnv, useValue: env }],
      exports: [ApiEnv],
    };
  }
}
