import { Logger, LoggerService } from '@nestjs/common';
import { Consumer, EachBatchPayload, IHeaders, ITopicConfig, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { Counter, Histogram } from 'prom-client';
import { decodeMessage, Decoded, MessageHeaders } from '@app/contracts';
import { acceptCorrelationId, deadLetteredMessages, metricsRegistry, runWithCorrelation } from '@app/observability';
import type { KafkaTopics } from './kafka.module';

export interface ConsumedMessage<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  messageId: string;
  correlationId: string;
}

export interface BatchConsumerOptions<T extends object> {
  groupId: string;
  topic: string;
  deadLetterTopic: string;
  /** class-validator class; undecodable/invalid → dead-letter topic with reason header, then skipped. */
  contract: new () => T;
  /** Idempotent; throwing → batch retried with backoff (partition held), offsets NOT committed. */
  handleBatch(messages: ConsumedMessage<T>[]): Promise<void>;
  fromBeginning?: boolean;
  /**
   * Decodes and validates one message body; defaults to `decodeMessage(contract, value)`. A topic
   * with a high rate may pass a hand-written check of the same rules (class-validator costs ~20 µs a message).
   */
  decode?: (value: Buffer | null) => Decoded<T>;
  /** Partitions handled at the same time by this instance (default 3). */
  partitionsConsumedConcurrently?: number;
  /** Bytes fetched per partition per batch (default 4 MiB): bigger batches, fewer writes per event. */
  maxBytesPerPartition?: number;
  /** Backoff bounds while the handler keeps failing (default 200 ms to 5 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

const consumed = new Counter({
  name: 'kafka_consumer_messages_total',
  help: 'Messages consumed, by topic and outcome (handled, dead_lettered)',
  labelNames: ['topic', 'outcome'] as const,
  registers: [metricsRegistry],
});
const batchDuration = new Histogram({
  name: 'kafka_consumer_batch_duration_seconds',
  help: 'Time from receiving a batch to committing its offsets',
  labelNames: ['topic'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});
const handlerFailures = new Counter({
  name: 'kafka_consumer_handler_failures_total',
  help: 'Failed attempts to handle a batch (it is retried with backoff)',
  labelNames: ['topic'] as const,
  registers: [metricsRegistry],
});

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined ? undefined : value.toString();
}

/**
 * Consumes one topic in batches with kafkajs `eachBatch` (Nest's Kafka server hands over one
 * message at a time). Per partition batch: invalid messages are dead-lettered (durably, with the
 * reason), the valid ones go to `handleBatch`, and only then is the offset committed. While the
 * handler fails the partition's batch is held and retried with backoff, heartbeats keep the
 * membership, `stalledReason` says why, and processing resumes by itself.
 */
export class KafkaBatchConsumer<T extends object> {
  private consumer?: Consumer;
  private producer?: Producer;
  private readonly stalls = new Map<number, string>();
  private running = false;
  private stopping = false;
  private startLoop?: Promise<void>;
  private readonly logger: LoggerService;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: BatchConsumerOptions<T>,
    logger?: LoggerService,
  ) {
    this.logger = logger ?? new Logger(`KafkaBatchConsumer:${options.groupId}`);
  }

  /** For readiness: undefined when healthy, else why it is stalled. */
  get stalledReason(): string | undefined {
    if (this.stopping) return undefined;
    if (!this.running) return 'the consumer is not connected to Kafka yet';
    for (const [partition, reason] of this.stalls) return `partition ${partition}: ${reason}`;
    return undefined;
  }

  /** Connects and starts consuming; if Kafka is not reachable yet, keeps trying in the background. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.connectUntilStopped();
  }

  /**
   * Makes sure the topics exist, then starts, all in the background: the app serves (and says in
   * readiness that it is not consuming yet) while Kafka is away. `stop` ends it at any point.
   */
  launch(topics: KafkaTopics, layout: ITopicConfig[]): void {
    this.stopping = false;
    void (async () => {
      if (await topics.ensureEventually(layout, () => this.stopping)) await this.connectUntilStopped();
    })().catch((error: Error) => this.logger.error(`consumer ${this.options.groupId} failed to start: ${error.message}`));
  }

  private async connectUntilStopped(): Promise<void> {
    let delay = 500;
    while (!this.stopping) {
      try {
        await this.connect();
        // Stopped while connecting: leave at once instead of consuming.
        if (this.stopping) await this.disconnect();
        return;
      } catch (error) {
        await this.disconnect();
        if (this.stopping) return;
        this.logger.warn(`consumer ${this.options.groupId} could not start (${(error as Error).message}); retrying in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 5000);
        if (this.stopping) return;
      }
    }
  }

  /** Finishes the batch in flight (committing it if it succeeds) and leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    // A launch still waiting for Kafka is not awaited: it gives up at its next step.
    await this.disconnect();
  }

  private async connect(): Promise<void> {
    const o = this.options;
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.consumer = this.kafka.consumer({
      groupId: o.groupId,
      maxBytesPerPartition: o.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      this.running = false;
      this.logger.error(`consumer ${o.groupId} crashed: ${event.payload.error.message} (restart: ${event.payload.restart})`);
      if (!event.payload.restart && !this.stopping) {
        this.startLoop = (async () => {
          await this.disconnect();
          await this.connectUntilStopped();
        })();
      }
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.running = true;
    });
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [o.topic], fromBeginning: o.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  private async disconnect(): Promise<void> {
    this.running = false;
    const consumer = this.consumer;
    const producer = this.producer;
    this.consumer = undefined;
    this.producer = undefined;
    await consumer?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = batch;
    if (messages.length === 0) return;
    const timer = batchDuration.startTimer({ topic });
    const valid: ConsumedMessage<T>[] = [];
    const dead: { message: KafkaMessage; reason: string }[] = [];
    for (const message of messages) {
      const decoded = this.options.decode ? this.options.decode(message.value) : decodeMessage(this.options.contract, message.value);
      if (!decoded.ok) {
        dead.push({ message, reason: decoded.reason });
        continue;
      }
      valid.push({
        topic,
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? null,
        value: decoded.value,
        messageId: header(message.headers, MessageHeaders.MessageId) ?? `${topic}/${partition}/${message.offset}`,
        correlationId: acceptCorrelationId(header(message.headers, MessageHeaders.CorrelationId)),
      });
    }

    let deadLettered = dead.length === 0;
    let delay = this.options.minBackoffMs ?? 200;
    for (let attempt = 1; ; attempt++) {
      if (!isRunning() || isStale()) return; // not committed: whoever owns the partition next redoes it
      try {
        if (!deadLettered) {
          await this.deadLetter(topic, partition, dead);
          deadLettered = true;
        }
        if (valid.length > 0) {
          const first = valid[0];
          await runWithCorrelation({ correlationId: first.correlationId, messageId: first.messageId }, () =>
            this.options.handleBatch(valid),
          );
        }
        break;
      } catch (error) {
        const reason = (error as Error).message;
        this.stalls.set(partition, reason);
        handlerFailures.inc({ topic });
        this.logger.warn(
          `batch of ${messages.length} from ${topic}[${partition}] at ${messages[0].offset} failed (attempt ${attempt}): ${reason}; retrying in ${delay} ms`,
        );
        const until = Date.now() + delay;
        while (Date.now() < until && isRunning() && !isStale()) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(1000, until - Date.now())));
          await heartbeat().catch(() => undefined);
        }
        delay = Math.min(delay * 2, this.options.maxBackoffMs ?? 5000);
      }
    }
    this.stalls.delete(partition);

    const last = messages[messages.length - 1].offset;
    resolveOffset(last);
    await this.consumer!.commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
    consumed.inc({ topic, outcome: 'handled' }, valid.length);
    if (dead.length > 0) consumed.inc({ topic, outcome: 'dead_lettered' }, dead.length);
    timer();
    await heartbeat().catch(() => undefined);
  }

  private async deadLetter(topic: string, partition: number, dead: { message: KafkaMessage; reason: string }[]): Promise<void> {
    await this.producer!.send({
      topic: this.options.deadLetterTopic,
      acks: -1,
      messages: dead.map(({ message, reason }) => ({
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          [MessageHeaders.MessageId]: header(message.headers, MessageHeaders.MessageId) ?? `${topic}/${partition}/${message.offset}`,
          [MessageHeaders.DeadLetterReason]: reason,
          'x-original-topic': topic,
          'x-original-partition': String(partition),
          'x-original-offset': message.offset,
        },
      })),
    });
    for (const { message, reason } of dead) {
      this.logger.warn(`dead-lettered ${topic}[${partition}]@${message.offset}: ${reason}`);
      deadLetteredMessages.inc({ source: topic, reason: reason.split(':')[0].slice(0, 60) });
    }
  }
}
