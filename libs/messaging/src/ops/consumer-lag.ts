import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { KAFKA_OPTIONS, type KafkaOptions } from '../kafka/kafka.tokens';
import { withDeadline } from './deadline';
import { LazyKafkaAdmin } from './lazy-kafka-admin';

/** A consumer group and the topic it consumes. */
export interface GroupTopic {
  group: string;
  topic: string;
}

/**
 * How far a group is behind on a topic: the sum over the topic's partitions of the end offset minus
 * the group's committed offset. `lag` is null, with `error`, when Kafka could not tell in time.
 */
export interface GroupLag extends GroupTopic {
  lag: number | null;
  partitions: { partition: number; lag: number }[];
  error?: string;
}

/**
 * Consumer lag read from Kafka itself (the admin API: end offsets, and the offsets each group
 * committed), so a group whose members are frozen or gone shows its lag too. A group that has
 * committed nothing on a partition counts from the partition's earliest offset: the consumers start
 * from the beginning (`fromBeginning`), so everything still kept is still to do. A topic that does
 * not exist yet has nothing to do: lag 0.
 *
 * Every read has a deadline; a slow or absent Kafka makes it answer with `lag: null` and the reason,
 * never hang or throw. One read at a time: concurrent callers share it.
 */
@Injectable()
export class ConsumerLag implements OnApplicationShutdown {
  private readonly logger = new Logger(ConsumerLag.name);
  private readonly admin: LazyKafkaAdmin;
  private reading?: { key: string; values: Promise<GroupLag[]> };

  constructor(@Inject(KAFKA_OPTIONS) options: KafkaOptions) {
    this.admin = new LazyKafkaAdmin(options, 'ops-lag');
  }

  async read(pairs: readonly GroupTopic[], timeoutMs = 2_500): Promise<GroupLag[]> {
    const key = JSON.stringify(pairs);
    if (!this.reading || this.reading.key !== key) {
      const values = this.fetch(pairs).finally(() => {
        if (this.reading?.values === values) this.reading = undefined;
      });
      this.reading = { key, values };
    }
    try {
      return await withDeadline(this.reading.values, timeoutMs, `Kafka did not answer within ${timeoutMs} ms`);
    } catch (error) {
      const message = `cannot read the lag from Kafka: ${(error as Error).message}`;
      return pairs.map((p) => ({ group: p.group, topic: p.topic, lag: null, partitions: [], error: message }));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin.drop();
  }

  private async fetch(pairs: readonly GroupTopic[]): Promise<GroupLag[]> {
    try {
      const admin = await this.admin.get();
      const existing = new Set(await admin.listTopics());
      const ends = new Map<string, { partition: number; high: string; low: string }[]>();
      for (const topic of new Set(pairs.map((p) => p.topic))) if (existing.has(topic)) ends.set(topic, await admin.fetchTopicOffsets(topic));
      const values: GroupLag[] = [];
      for (const { group, topic } of pairs) {
        const topicEnds = ends.get(topic);
        if (!topicEnds) {
          values.push({ group, topic, lag: 0, partitions: [] });
          continue;
        }
        const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        const partitions = topicEnds
          .map((end) => {
            const offset = BigInt(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1');
            const from = offset >= 0n ? offset : BigInt(end.low);
            const lag = BigInt(end.high) - from;
            return { partition: end.partition, lag: Number(lag > 0n ? lag : 0n) };
          })
          .sort((a, b) => a.partition - b.partition);
        values.push({ group, topic, lag: partitions.reduce((sum, p) => sum + p.lag, 0), partitions });
      }
      return values;
    } catch (error) {
      void this.admin.drop();
      this.logger.debug(`cannot read the consumer lag: ${(error as Error).message}`);
      throw error;
    }
  }
}
