import { DynamicModule, Module } from '@nestjs/common';
import { join } from 'node:path';
import { TopicContracts } from '@app/contracts';
import { KafkaConsumersHealthIndicator, KafkaHealthIndicator, KafkaModule } from '@app/messaging';
import { CassandraHealthIndicator, CassandraModule } from '@app/cassandra';
import { HealthModule, MetricsModule } from '@app/observability';
import { ProcessEnv } from './config/process.env';
import { StockModule } from './stock/stock.module';

@Module({})
export class ProcessModule {
  static forEnv(env: ProcessEnv): DynamicModule {
    return {
      module: ProcessModule,
      global: true,
      imports: [
        KafkaModule.forRoot({
          clientId: 'process',
          brokers: env.kafkaBrokers,
          // Tests and the benchmark isolate a run with a topic and a group of their own.
          topics: {
            [TopicContracts.StockEvents.topic]: {
              topic: env.STOCK_TOPIC,
              groupId: env.STOCK_CONSUMER_GROUP,
              partitions: env.STOCK_TOPIC_PARTITIONS,
              concurrency: env.STOCK_CONSUMER_CONCURRENCY,
            },
          },
        }),
        CassandraModule.forRoot({
          contactPoints: env.cassandraContactPoints,
          localDataCenter: env.CASSANDRA_LOCAL_DC,
          keyspace: 'stock',
          replicationFactor: env.CASSANDRA_REPLICATION_FACTOR,
          migrationsDir: join(__dirname, 'migrations'),
        }),
        StockModule,
        HealthModule.forIndicators([KafkaHealthIndicator, CassandraHealthIndicator, KafkaConsumersHealthIndicator]),
        MetricsModule,
      ],
      providers: [{ provide: ProcessEnv, useValue: env }],
      exports: [ProcessEnv],
    };
  }
}
