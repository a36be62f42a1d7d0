import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Admin } from 'kafkajs';
import { probe, ReadinessIndicator } from '@app/observability';
import { createKafka, createProbeKafka, KafkaTopics } from './kafka.factory';
import { KafkaConsumersHealthIndicator } from './kafka-consumers.health';
import { KafkaServer } from './kafka.server';
import { KAFKA, KAFKA_OPTIONS, type KafkaTopicOverrides, type KafkaModuleOptions, type KafkaOptions } from './kafka.tokens';

export { createKafka, KAFKA, KAFKA_OPTIONS, KafkaTopics };
export type { KafkaTopicOverrides, KafkaModuleOptions, KafkaOptions };

/**
 * Ready when the broker answers a metadata call. A fresh admin per failure: a client that lost
 * its broker is thrown away rather than trusted to recover, so readiness returns by itself.
 */
@Injectable()
export class KafkaHealthIndicator implements ReadinessIndicator, OnApplicationShutdown {
  readonly key = 'kafka';
  private admin?: Admin;

  constructor(
    @Inject(KAFKA_OPTIONS) private readonly options: KafkaOptions,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check() {
    return probe(this.indicators, this.key, 2500, async () => {
      try {
        this.admin ??= await this.connect();
        const cluster = await this.admin.describeCluster();
        return { brokers: cluster.brokers.length, controller: cluster.controller };
      } catch (error) {
        const admin = this.admin;
        this.admin = undefined;
        void admin?.disconnect().catch(() => undefined);
        throw error;
      }
    });
  }

  private async connect(): Promise<Admin> {
    const admin = createProbeKafka(this.options, 'health').admin();
    await admin.connect();
    return admin;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}

/**
 * The app's Kafka client, topic creation, readiness, and {@link KafkaServer}, the transport of
 * its `@KafkaBatch` handlers (connected by `runApp({ transports: [KafkaServer] })`).
 */
@Global()
@Module({})
export class KafkaModule {
  static forRoot(options: KafkaModuleOptions): DynamicModule {
    return {
      module: KafkaModule,
      providers: [
        { provide: KAFKA_OPTIONS, useValue: options },
        { provide: KAFKA, useFactory: () => createKafka(options) },
        HealthIndicatorService,
        KafkaHealthIndicator,
        KafkaTopics,
        KafkaServer,
        KafkaConsumersHealthIndicator,
      ],
      exports: [KAFKA, KAFKA_OPTIONS, KafkaHealthIndicator, KafkaTopics, KafkaServer, KafkaConsumersHealthIndicator],
    };
  }
}
