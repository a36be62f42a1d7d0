import { DynamicModule, Module } from '@nestjs/common';
import { join } from 'node:path';
import { RabbitmqHealthIndicator, RabbitmqModule } from '@app/messaging';
import { CassandraHealthIndicator, CassandraModule } from '@app/cassandra';
import { HealthModule, MetricsModule } from '@app/observability';
import { AccountEnv } from './config/account.env';
import { PurchasesModule } from './purchases/purchases.module';
import { TopUpsModule } from './top-ups/top-ups.module';
import { UsersModule } from './users/users.module';

@Module({})
export class AccountModule {
  static forEnv(env: AccountEnv): DynamicModule {
    return {
      module: AccountModule,
      global: true,
      imports: [
        CassandraModule.forRoot({
          contactPoints: env.cassandraContactPoints,
          localDataCenter: env.CASSANDRA_LOCAL_DC,
          keyspace: 'account',
          replicationFactor: env.CASSANDRA_REPLICATION_FACTOR,
          migrationsDir: join(__dirname, 'migrations'),
        }),
        RabbitmqModule.forRoot({ url: env.RABBITMQ_URL, prefetch: env.RABBITMQ_PREFETCH, connectionName: 'account' }),
        HealthModule.forIndicators([CassandraHealthIndicator, RabbitmqHealthIndicator]),
        MetricsModule,
        UsersModule,
        PurchasesModule,
        TopUpsModule,
      ],
      providers: [{ provide: AccountEnv, useValue: env }],
      exports: [AccountEnv],
    };
  }
}
