import { DynamicModule, Module } from '@nestjs/common';
import { join } from 'node:path';
import { KafkaHealthIndicator, KafkaModule, RabbitmqHealthIndicator, RabbitmqModule } from '@app/messaging';
import { CassandraHealthIndicator, CassandraModule } from '@app/cassandra';
import { HealthModule, MetricsModule } from '@app/observability';
import { ShopEnv } from './config/shop.env';
import { InventoryGrpcHealthIndicator } from './inventory-grpc/inventory-grpc.health';
import { InventoryGrpcModule } from './inventory-grpc/inventory-grpc.module';
import { ItemsModule } from './items/items.module';
import { ReservationsModule } from './reservations/reservations.module';

@Module({})
export class ShopModule {
  static forEnv(env: ShopEnv): DynamicModule {
    return {
      module: ShopModule,
      global: true,
      imports: [
        KafkaModule.forRoot({ clientId: 'shop', brokers: env.kafkaBrokers }),
        CassandraModule.forRoot({
          contactPoints: env.cassandraContactPoints,
          localDataCenter: env.CASSANDRA_LOCAL_DC,
          keyspace: 'shop',
          replicationFactor: env.CASSANDRA_REPLICATION_FACTOR,
          migrationsDir: join(__dirname, 'migrations'),
        }),
        RabbitmqModule.forRoot({ url: env.RABBITMQ_URL, prefetch: env.RABBITMQ_PREFETCH, connectionName: 'shop' }),
        HealthModule.forIndicators(
          [KafkaHealthIndicator, CassandraHealthIndicator, RabbitmqHealthIndicator, InventoryGrpcHealthIndicator],
          [InventoryGrpcHealthIndicator],
        ),
        MetricsModule,
        ItemsModule,
        ReservationsModule,
        InventoryGrpcModule,
      ],
      providers: [{ provide: ShopEnv, useValue: env }],
      exports: [ShopEnv],
    };
  }
}
