import { Logger } from '@nestjs/common';
import { Batch, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { DeadlineExceeded, withDeadline } from './deadline';

/** What one read wants: records of `partition` from offset `from` up to (not including) `until`. */
export interface ReadRange {
  partition: number;
  from: bigint;
  until: bigint;
  /** At most this many records are returned. */
  limit: number;
  /** Records to pass over (they do not count towards `limit`). */
  skip?: (offset: bigint) => boolean;
}

interface ActiveRead extends ReadRange {
  next: bigint;
  records: KafkaMessage[];
  resolve: (records: KafkaMessage[]) => void;
}

/**
 * Reads ranges of one topic by offset (kafkajs has no fetch outside a consumer group): one
 * consumer, in a group of its own that commits nothing, started on the first read and kept,
 * paused between reads. A read seeks the partition, resumes it until the range is read, and
 * pauses it again. Reads run one at a time, each with a deadline; after a failure the consumer is
 * thrown away and the next read starts a fresh one.
 */
export class KafkaTopicReader {
  private readonly logger = new Logger(KafkaTopicReader.name);
  private consumer?: Promise<Consumer>;
  private active?: ActiveRead;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupPrefix: string,
    readonly topic: string,
  ) {}

  /** The records of `range`, in offset order. Rejects with a DeadlineExceeded when Kafka did not serve them within `timeoutMs`. */
  read(range: ReadRange, timeoutMs: number): Promise<KafkaMessage[]> {
    const run = this.queue.then(() => this.readNow(range, Date.now() + timeoutMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.dispose();
  }

  private async readNow(range: ReadRange, deadline: number): Promise<KafkaMessage[]> {
    if (this.closed) throw new Error('the reader is closed');
    if (range.from >= range.until || range.limit <= 0) return [];
    const what = `${this.topic}[${range.partition}] from ${range.from}`;
    try {
      const consumer = await withDeadline(this.started(), Math.max(1, deadline - Date.now()), `Kafka did not let us read ${what} in time`);
      const done = new Promise<KafkaMessage[]>((resolve) => {
        this.active = { ...range, next: range.from, records: [], resolve };
      });
      consumer.seek({ topic: this.topic, partition: range.partition, offset: range.from.toString() });
      consumer.resume([{ topic: this.topic, partitions: [range.partition] }]);
      return await withDeadline(done, Math.max(1, deadline - Date.now()), `Kafka did not serve ${what} in time`);
    } catch (error) {
      this.active = undefined;
      await this.dispose();
      throw error instanceof DeadlineExceeded ? error : new Error(`cannot read ${what}: ${(error as Error).message}`);
    }
  }

  private started(): Promise<Consumer> {
    this.consumer ??= this.start().catch((error: Error) => {
      this.consumer = undefined;
      throw error;
    });
    return this.consumer;
  }

  private async start(): Promise<Consumer> {
    const consumer = this.kafka.consumer({
      groupId: `${this.groupPrefix}-${randomUUID()}`,
      // A resumed partition is fetched within this long, and an idle paused one costs a wake-up as often.
      maxWaitTimeInMs: 100,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
    });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    consumer.on(consumer.events.CRASH, (event) => {
      this.logger.warn(`the reader of ${this.topic} crashed (${event.payload.error.message}); a fresh one starts on the next read`);
      void this.dispose(consumer);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, isStale, pause }) => this.onBatch(batch, isStale(), pause),
      });
      // The first fetch of each partition that no read wants pauses it (onBatch); a read resumes it.
      await joined;
      return consumer;
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  private onBatch(batch: Batch, stale: boolean, pause: () => void): void {
    const read = this.active;
    if (stale) return;
    if (!read || read.partition !== batch.partition) {
      pause();
      return;
    }
    let finished = false;
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      if (offset < read.next) continue;
      read.next = offset + 1n;
      if (offset >= read.until) {
        finished = true;
        break;
      }
      if (!read.skip?.(offset)) read.records.push(message);
      if (read.records.length >= read.limit || read.next >= read.until) {
        finished = true;
        break;
      }
    }
    if (!finished) return;
    pause();
    this.active = undefined;
    read.resolve(read.records);
  }

  private async dispose(which?: Consumer): Promise<void> {
    const current = this.consumer;
    if (!current) return;
    if (which && (await current.catch(() => undefined)) !== which) return;
    this.consumer = undefined;
    await current.then((c) => c.disconnect()).catch(() => undefined);
  }
}
