import { DynamicModule, Module } from '@nestjs/common';
import { QueueContracts } from '@app/contracts';
import { join } from 'node:path';
import { KafkaConsumersHealthIndicator, KafkaHealthIndicator, KafkaModule, RabbitmqHealthIndicator, RabbitmqModule } from '@app/messaging';
import { CassandraHealthIndicator, CassandraModule } from '@app/cassandra';
import { SmtpHealthIndicator, SmtpModule } from './smtp/smtp.module';
import { HealthModule, MetricsModule } from '@app/observability';
import { MailerEnv } from './config/mailer.env';
import { MailModule } from './mail/mail.module';
import { WatchlistModule } from './watchlist/watchlist.module';

@Module({})
export class MailerModule {
  static forEnv(env: MailerEnv): DynamicModule {
    return {
      module: MailerModule,
      global: true,
      imports: [
        KafkaModule.forRoot({ clientId: 'mailer', brokers: env.kafkaBrokers }),
        CassandraModule.forRoot({
          contactPoints: env.cassandraContactPoints,
          localDataCenter: env.CASSANDRA_LOCAL_DC,
          keyspace: 'mailer',
          replicationFactor: env.CASSANDRA_REPLICATION_FACTOR,
          migrationsDir: join(__dirname, 'migrations'),
        }),
        RabbitmqModule.forRoot({
          url: env.RABBITMQ_URL,
          prefetch: env.RABBITMQ_PREFETCH,
          connectionName: 'mailer',
          retryDelaysMs: { [QueueContracts.MailSend.name]: env.mailRetryDelaysMs },
        }),
        SmtpModule.forRoot(env),
        HealthModule.forIndicators([
          KafkaHealthIndicator,
          KafkaConsumersHealthIndicator,
          CassandraHealthIndicator,
          RabbitmqHealthIndicator,
          SmtpHealthIndicator,
        ]),
        MetricsModule,
        MailModule,
        WatchlistModule,
      ],
      providers: [{ provide: MailerEnv, useValue: env }],
      exports: [MailerEnv],
    };
  }
}
