import { DynamicModule, Module } from '@nestjs/common';
import { join } from 'node:path';
import { KafkaHealthIndicator, KafkaModule } from '@app/messaging';
import { CassandraHealthIndicator, CassandraModule } from '@app/cassandra';
import { HealthModule, MetricsModule } from '@app/observability';
import { ProcessEnv } from './config/process.env';
import { StockModule } from './stock/stock.module';
import { StockConsumerHealthIndicator } from './stock/stock-events.consumer';

@Module({})
export class ProcessModule {
  static forEnv(env: ProcessEnv): DynamicModule {
    return {
      module: ProcessModule,
      global: true,
      imports: [
      KafkaModule.forRoot({ clientId: 'process', brokers: env.kafkaBrokers }),
      CassandraModule.forRoot({
        contactPoints: env.cassandraContactPoints,
        localDataCenter: env.CASSANDRA_LOCAL_DC,
        keyspace: 'stock',
        replicationFactor: env.CASSANDRA_REPLICATION_FACTOR,
        migrationsDir: join(__dirname, 'migrations'),
      }),
      StockModule,
      HealthModule.forIndicators([KafkaHealthIndicator, CassandraHealthIndicator, StockConsumerHealthIndicator]),
      MetricsModule,
      ],
      providers: [{ provide: ProcessEnv, useValue: env }],
      exports: [ProcessEnv],
    };
  }
}
