import { Logger, LoggerService } from '@nestjs/common';
import type { Context, Span } from '@opentelemetry/api';
import { Batch, Consumer, EachBatchPayload, IHeaders, ITopicConfig, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { Counter, Histogram } from 'prom-client';
import { Backoff, Decoded, DomainError, MessageHeaders, settlesWithin, sleepUnless } from '@app/contracts';
import {
  acceptCorrelationId,
  addSpanEvent,
  BatchLinks,
  deadLetteredMessages,
  endEntrySpan,
  failSpan,
  metricsRegistry,
  runInContext,
  runWithCorrelation,
  SpanKind,
  startEntrySpan,
  tracingOn,
} from '@app/observability';
import { KafkaTopics } from './kafka.factory';
import { DeadLetterHeaders } from '../ops/dead-letter-headers';

/** One valid record of a batch, decoded and checked against its topic contract. */
export interface ConsumedMessage<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  messageId: string;
  correlationId: string;
}

/** Where a batch handed to a handler comes from. */
export interface BatchSource {
  topic: string;
  partition: number;
  groupId: string;
  /** Offsets of the first and last record fetched; committing the batch moves the group past `lastOffset`. */
  firstOffset: string;
  lastOffset: string;
}

/** Partitions that one consumer group member was given or lost. */
export interface PartitionsEvent {
  groupId: string;
  topic: string;
  partitions: number[];
}

export interface GroupConsumerOptions<T> {
  groupId: string;
  topic: string;
  deadLetterTopic: string;
  /** Decodes and validates one record; undecodable/invalid → dead-letter topic with the reason header, then skipped. */
  decode: (value: Buffer | null) => Decoded<T>;
  /**
   * Idempotent; rejecting → batch retried with backoff (partition held), offsets NOT committed. A
   * `DomainError` that is not retryable says a record can never succeed: the batch is halved until
   * the records that cause it are found, and those go to the dead-letter topic with its code.
   */
  handleBatch(messages: ConsumedMessage<T>[], source: BatchSource): Promise<void>;
  fromBeginning?: boolean;
  /** Partitions handled at the same time by this instance (default 3). */
  concurrency?: number;
  /** Bytes fetched per partition per batch (default 4 MiB): bigger batches, fewer writes per event. */
  maxBytesPerPartition?: number;
  /** Backoff bounds while the handler keeps failing (default 200 ms to 5 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Told of every assignment (after each join) and of every loss (rebalance, stop, crash), as an eager rebalance listener. */
  onPartitions?(change: 'assigned' | 'revoked', event: PartitionsEvent): void;
}

const consumed = new Counter({
  name: 'kafka_consumer_messages_total',
  help: 'Messages consumed, by topic, group and outcome (handled, dead_lettered)',
  labelNames: ['topic', 'group', 'outcome'] as const,
  registers: [metricsRegistry],
});
const batchDuration = new Histogram({
  name: 'kafka_consumer_batch_duration_seconds',
  help: 'Time from receiving a batch to committing its offsets',
  labelNames: ['topic', 'group'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});
const handlerFailures = new Counter({
  name: 'kafka_consumer_handler_failures_total',
  help: 'Failed attempts to handle a batch (it is retried with backoff)',
  labelNames: ['topic', 'group'] as const,
  registers: [metricsRegistry],
});

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined ? undefined : value.toString();
}

/**
 * The consumer span of one partition's batch: child of the producer's context when every record
 * came from one publish (a price change, an upload's chunk), else a root with links to the
 * distinct producers' contexts (capped). Tracing on only.
 */
function batchSpan(groupId: string, batch: Batch): { span: Span; context: Context } {
  const links = new BatchLinks();
  for (const message of batch.messages) links.add(message.headers);
  const { messages } = batch;
  return startEntrySpan(
    {
      name: `process ${batch.topic}`,
      kind: SpanKind.CONSUMER,
      correlationId: acceptCorrelationId(header(messages[0].headers, MessageHeaders.CorrelationId)),
      links: links.links(),
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': batch.topic,
        'messaging.destination.partition.id': String(batch.partition),
        'messaging.consumer.group.name': groupId,
        'messaging.batch.message_count': messages.length,
        'messaging.kafka.offset': Number(messages[0].offset),
        'retail.batch.last_offset': Number(messages[messages.length - 1].offset),
        ...(links.unlinked > 0 ? { 'retail.links.unlinked_records': links.unlinked } : {}),
      },
    },
    links.parent(),
  );
}

/** The errors after which kafkajs re-joins the group: the member no longer owns what it holds. */
function losesMembership(error: unknown): boolean {
  const type = (error as { type?: string } | undefined)?.type;
  return type === 'REBALANCE_IN_PROGRESS' || type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID' || type === 'NOT_COORDINATOR_FOR_GROUP';
}

/**
 * One kafkajs consumer of one topic in one group, in batches (`eachBatch`). Per partition batch:
 * invalid records are dead-lettered (durably, with the reason), the valid ones go to
 * `handleBatch`, and only then is the offset committed. While the handler fails the partition's
 * batch is held and retried with backoff, heartbeats keep the membership, `notReadyReason` says
 * why, and processing resumes by itself. Kafka away at start or a crash kafkajs does not restart
 * from: reconnects with backoff until stopped. The engine of `KafkaServer`.
 */
export class GroupConsumer<T> {
  private consumer?: Consumer;
  private producer?: Producer;
  private readonly stalls = new Map<number, string>();
  private joined = false;
  private stopping = false;
  private stopped?: Promise<void>;
  private lastError?: string;
  private assigned: number[] = [];
  private readonly logger: LoggerService;

  constructor(
    private readonly kafka: Kafka,
    readonly options: GroupConsumerOptions<T>,
    logger?: LoggerService,
  ) {
    this.logger = logger ?? new Logger(`KafkaConsumer:${options.groupId}`);
  }

  get groupId(): string {
    return this.options.groupId;
  }

  get topic(): string {
    return this.options.topic;
  }

  /** The kafkajs consumer while connected. */
  get client(): Consumer | undefined {
    return this.consumer;
  }

  /** For readiness: undefined when in the group and no partition stalled, else why not (naming the group). Undefined while stopping. */
  notReadyReason(): string | undefined {
    if (this.stopping) return undefined;
    const { groupId, topic } = this.options;
    if (!this.joined) return `group ${groupId} has not joined on ${topic}${this.lastError ? ` (${this.lastError})` : ' yet'}`;
    for (const [partition, reason] of this.stalls) return `group ${groupId} is stalled on ${topic}[${partition}]: ${reason}`;
    return undefined;
  }

  /** Connects and starts consuming; if Kafka is not reachable yet, keeps trying until stopped. */
  async start(): Promise<void> {
    this.stopping = false;
    this.stopped = undefined;
    await this.connectUntilStopped();
  }

  /**
   * Makes sure the topics of `layout` exist, then starts, all in the background: the app serves
   * (and says in readiness that it is not consuming yet) while Kafka is away. `stop` ends it at any point.
   */
  launch(topics: KafkaTopics, layout: ITopicConfig[]): void {
    this.stopping = false;
    this.stopped = undefined;
    void (async () => {
      if (await topics.ensureEventually(layout, () => this.stopping)) await this.connectUntilStopped();
    })().catch((error: Error) => this.logger.error(`consumer ${this.options.groupId} failed to start: ${error.message}`));
  }

  /**
   * Stops taking batches, finishes the one in flight (committing it if it succeeds), leaves the
   * group. Waits at most `timeoutMs`: a batch still running then stays uncommitted, and is
   * redelivered to the group's next owner of its partition. Calling it again waits again.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    const producer = this.producer;
    // A launch still waiting for Kafka is not awaited: it gives up at its next step.
    this.stopped ??= this.disconnect();
    if (!(await settlesWithin(this.stopped, timeoutMs))) {
      this.logger.warn(`consumer ${this.options.groupId}: the batch in flight did not finish within ${timeoutMs} ms; left uncommitted`);
      await producer?.disconnect().catch(() => undefined);
    }
  }

  private async connectUntilStopped(): Promise<void> {
    const backoff = new Backoff(500, 5000);
    while (!this.stopping) {
      try {
        await this.connect();
        // Stopped while connecting: leave at once instead of consuming.
        if (this.stopping) await this.disconnect();
        return;
      } catch (error) {
        await this.disconnect();
        if (this.stopping) return;
        this.lastError = (error as Error).message;
        const delay = backoff.next();
        this.logger.warn(`consumer ${this.options.groupId} could not start (${this.lastError}); retrying in ${delay} ms`);
        await sleepUnless(delay, () => this.stopping);
      }
    }
  }

  private async connect(): Promise<void> {
    const o = this.options;
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    const consumer = this.kafka.consumer({
      groupId: o.groupId,
      maxBytesPerPartition: o.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      allowAutoTopicCreation: false,
    });
    this.producer = producer;
    this.consumer = consumer;
    const { CRASH, GROUP_JOIN, REBALANCING, STOP } = consumer.events;
    consumer.on(CRASH, (event) => {
      this.joined = false;
      this.lastError = `crashed: ${event.payload.error.message}`;
      this.revokeAll();
      this.logger.error(`consumer ${o.groupId} crashed: ${event.payload.error.message} (restart: ${event.payload.restart})`);
      if (!event.payload.restart && !this.stopping && this.consumer === consumer) {
        void (async () => {
          await this.disconnect();
          await this.connectUntilStopped();
        })();
      }
    });
    consumer.on(GROUP_JOIN, (event) => {
      this.joined = true;
      this.lastError = undefined;
      this.revokeAll();
      this.assigned = [...(event.payload.memberAssignment[o.topic] ?? [])].sort((a, b) => a - b);
      this.notify('assigned', this.assigned);
    });
    consumer.on(REBALANCING, () => this.revokeAll());
    consumer.on(STOP, () => this.revokeAll());
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: [o.topic], fromBeginning: o.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.concurrency ?? 3,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  private async disconnect(): Promise<void> {
    this.joined = false;
    const consumer = this.consumer;
    const producer = this.producer;
    this.consumer = undefined;
    this.producer = undefined;
    await consumer?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  }

  /** Eager rebalancing: every partition is given up when a rebalance starts, and the new set comes with the join. */
  private revokeAll(): void {
    if (this.assigned.length === 0) return;
    const partitions = this.assigned;
    this.assigned = [];
    for (const partition of partitions) this.stalls.delete(partition);
    this.notify('revoked', partitions);
  }

  private notify(change: 'assigned' | 'revoked', partitions: number[]): void {
    try {
      this.options.onPartitions?.(change, { groupId: this.options.groupId, topic: this.options.topic, partitions });
    } catch (error) {
      this.logger.error(`a partitions-${change} listener of ${this.options.groupId} failed: ${(error as Error).message}`);
    }
  }

  /** One span per batch when tracing is on (never one per record), linked to the producers' contexts. */
  private eachBatch(payload: EachBatchPayload): Promise<void> {
    if (!tracingOn() || payload.batch.messages.length === 0) return this.consumeBatch(payload);
    const traced = batchSpan(this.options.groupId, payload.batch);
    return runInContext(traced.context, () => this.consumeBatch(payload)).then(
      () => endEntrySpan(traced.span, traced.context),
      (error: unknown) => {
        failSpan(traced.span, error);
        endEntrySpan(traced.span, traced.context);
        throw error;
      },
    );
  }

  private async consumeBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = batch;
    if (messages.length === 0) return;
    const { groupId } = this.options;
    const timer = batchDuration.startTimer({ topic, group: groupId });
    const valid: ConsumedMessage<T>[] = [];
    const dead: { message: KafkaMessage; reason: string }[] = [];
    for (const message of messages) {
      const decoded = this.options.decode(message.value);
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
    const last = messages[messages.length - 1].offset;
    const source: BatchSource = { topic, partition, groupId, firstOffset: messages[0].offset, lastOffset: last };
    // A heartbeat that says the group is rebalancing ends the attempt: the partition may be someone else's now.
    const beat = () =>
      heartbeat().catch((error: unknown) => {
        if (losesMembership(error)) throw error;
      });

    let deadLettered = dead.length === 0;
    const backoff = new Backoff(this.options.minBackoffMs ?? 200, this.options.maxBackoffMs ?? 5000);
    try {
      for (let attempt = 1; ; attempt++) {
        if (!isRunning() || isStale()) return; // not committed: whoever owns the partition next redoes it
        try {
          if (!deadLettered) {
            await this.deadLetter(topic, partition, dead);
            deadLettered = true;
          }
          if (valid.length > 0) {
            const first = valid[0];
            const refused = await runWithCorrelation({ correlationId: first.correlationId, messageId: first.messageId }, () =>
              this.handleIsolatingRefusals(valid, source),
            );
            if (refused.length > 0) {
              const byOffset = new Map(messages.map((m) => [m.offset, m]));
              const poison = refused.map(({ record, reason }) => ({ message: byOffset.get(record.offset)!, reason }));
              await this.deadLetter(topic, partition, poison);
              dead.push(...poison);
              valid.splice(0, valid.length, ...valid.filter((record) => !refused.some((r) => r.record === record)));
            }
          }
          break;
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          this.stalls.set(partition, reason);
          handlerFailures.inc({ topic, group: groupId });
          const delay = backoff.next();
          if (tracingOn()) addSpanEvent('batch failed; retrying', { attempt, 'error.message': reason.slice(0, 300), 'retail.retry.delay_ms': delay });
          this.logger.warn(
            `batch of ${messages.length} from ${topic}[${partition}] at ${messages[0].offset} failed (attempt ${attempt}): ${reason}; retrying in ${delay} ms`,
          );
          const until = Date.now() + delay;
          while (Date.now() < until && isRunning() && !isStale()) {
            await new Promise((resolve) => setTimeout(resolve, Math.min(1000, until - Date.now())));
            await beat();
          }
        }
      }
    } finally {
      this.stalls.delete(partition);
    }

    resolveOffset(last);
    await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }] });
    consumed.inc({ topic, group: groupId, outcome: 'handled' }, valid.length);
    if (dead.length > 0) consumed.inc({ topic, group: groupId, outcome: 'dead_lettered' }, dead.length);
    timer();
    await heartbeat().catch(() => undefined);
  }

  /**
   * Hands the records to the handler; when it refuses them for good (a non-retryable DomainError),
   * hands each half on its own, left before right so each key's order is kept, down to the single
   * records it refuses. Any other error ends the attempt (the whole batch is retried: the handler is
   * idempotent). A batch with one poison record costs about 2·log2(n) extra handler calls.
   */
  private async handleIsolatingRefusals(records: ConsumedMessage<T>[], source: BatchSource): Promise<{ record: ConsumedMessage<T>; reason: string }[]> {
    try {
      await this.options.handleBatch(records, source);
      return [];
    } catch (error) {
      if (!(error instanceof DomainError) || error.retryable) throw error;
      if (records.length === 1) return [{ record: records[0], reason: `${error.code}: ${error.message}` }];
      const half = Math.ceil(records.length / 2);
      const left = await this.handleIsolatingRefusals(records.slice(0, half), source);
      const right = await this.handleIsolatingRefusals(records.slice(half), source);
      return [...left, ...right];
    }
  }

  private async deadLetter(topic: string, partition: number, dead: { message: KafkaMessage; reason: string }[]): Promise<void> {
    if (!this.producer) throw new Error('the dead-letter producer is closed');
    // ops: when it was dead-lettered, for GET /v1/ops/dead-letters.
    const at = new Date().toISOString();
    await this.producer.send({
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
          [DeadLetterHeaders.At]: at,
        },
      })),
    });
    for (const { message, reason } of dead) {
      this.logger.warn(`dead-lettered ${topic}[${partition}]@${message.offset}: ${reason}`);
      deadLetteredMessages.inc({ source: topic, reason: reason.split(':')[0].slice(0, 60) });
    }
  }
}
