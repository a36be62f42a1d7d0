import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Admin, ITopicConfig, Kafka, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import { probe, ReadinessIndicator } from '@app/observability';

import { KAFKA, KAFKA_OPTIONS, type KafkaOptions } from './kafka.tokens';

export { KAFKA, KAFKA_OPTIONS };
export type { KafkaOptions };

/** kafkajs log lines through Nest's logger (so they come out as the app's JSON lines). */
function kafkaLogCreator() {
  const logger = new Logger('kafkajs');
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const line = { msg: message, ...extra };
      if (level === KafkaLogLevel.ERROR) logger.error(line);
      else if (level === KafkaLogLevel.WARN) logger.warn(line);
      else if (level === KafkaLogLevel.INFO) logger.log(line);
      else logger.debug(line);
    };
}

/** The one factory that builds a kafkajs client; every app and tool uses it. */
export function createKafka(options: KafkaOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 5000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: kafkaLogCreator(),
  });
}

/** Topic creation that is safe to run from every instance at every start. */
@Injectable()
export class KafkaTopics {
  private readonly logger = new Logger(KafkaTopics.name);

  constructor(@Inject(KAFKA) private readonly kafka: Kafka) {}

  async ensure(topics: ITopicConfig[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * `ensure`, retried with backoff until Kafka answers, so an app can start before Kafka does.
   * Resolves false without creating anything once `stopped()` says the app is shutting down.
   */
  async ensureEventually(topics: ITopicConfig[], stopped: () => boolean = () => false): Promise<boolean> {
    for (let delay = 500; !stopped(); delay = Math.min(delay * 2, 5000)) {
      try {
        await this.ensure(topics);
        return true;
      } catch (error) {
        // Another instance created it between our listing and our create: that is success.
        if (/already exists/i.test((error as Error).message)) return true;
        this.logger.warn(`cannot make sure topics ${topics.map((t) => t.topic).join(', ')} exist (${(error as Error).message}); retrying in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    return false;
  }
}

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
    const kafka = new Kafka({
      clientId: `${this.options.clientId}-health`,
      brokers: this.options.brokers,
      connectionTimeout: 1500,
      requestTimeout: 2000,
      retry: { retries: 0 },
      logLevel: KafkaLogLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    return admin;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}


@Global()
@Module({})
export class KafkaModule {
  static forRoot(options: KafkaOptions): DynamicModule {
    return {
      module: KafkaModule,
      providers: [
        { provide: KAFKA_OPTIONS, useValue: options },
        { provide: KAFKA, useFactory: () => createKafka(options) },
        HealthIndicatorService,
        KafkaHealthIndicator,
        KafkaTopics,
      ],
      exports: [KAFKA, KAFKA_OPTIONS, KafkaHealthIndicator, KafkaTopics],
    };
  }
}
