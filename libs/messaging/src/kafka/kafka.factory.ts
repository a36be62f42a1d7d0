import { Inject, Injectable, Logger } from '@nestjs/common';
import { ITopicConfig, Kafka, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import { Backoff, sleepUnless } from '@app/contracts';
import { KAFKA, type KafkaOptions } from './kafka.tokens';

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

/**
 * A client for probes (readiness, lag): short timeouts and no retries, so a broker that is away
 * makes a probe fail fast instead of hanging on kafkajs's retry ladder.
 */
export function createProbeKafka(options: KafkaOptions, purpose: string): Kafka {
  return new Kafka({
    clientId: `${options.clientId}-${purpose}`,
    brokers: options.brokers,
    connectionTimeout: 1500,
    requestTimeout: 2000,
    retry: { retries: 0 },
    logLevel: KafkaLogLevel.NOTHING,
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
    for (const backoff = new Backoff(500, 5000); !stopped();) {
      const delay = backoff.next();
      try {
        await this.ensure(topics);
        return true;
      } catch (error) {
        // Another instance created it between our listing and our create: that is success.
        if (/already exists/i.test((error as Error).message)) return true;
        this.logger.warn(`cannot make sure topics ${topics.map((t) => t.topic).join(', ')} exist (${(error as Error).message}); retrying in ${delay} ms`);
        await sleepUnless(delay, stopped);
      }
    }
    return false;
  }
}
