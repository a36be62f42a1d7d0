import { Inject, Injectable, Logger } from '@nestjs/common';
import { BaseRpcContext, CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { Admin, Consumer, ITopicConfig, Kafka } from 'kafkajs';
import { Gauge } from 'prom-client';
import { lastValueFrom } from 'rxjs';
import { decodeMessage, TopicContract } from '@app/contracts';
import { metricsRegistry } from '@app/observability';
import { createProbeKafka, KafkaTopics } from './kafka.factory';
import { BatchSource, ConsumedMessage, GroupConsumer, PartitionsEvent } from './kafka-group-consumer';
import { KAFKA, KAFKA_OPTIONS, type KafkaModuleOptions } from './kafka.tokens';

export type { BatchSource, ConsumedMessage, PartitionsEvent };

/** Transport id of {@link KafkaServer}: handlers declared with `KafkaBatch` go to it alone. */
export const KAFKA_TRANSPORT = Symbol('kafka');

/** What `KafkaBatch` puts in the pattern's extras. */
export interface KafkaHandlerExtras {
  kafka: { contract: TopicContract; group: string };
}

/** `@Ctx()` of a Kafka batch handler: where the batch comes from. */
export class KafkaBatchContext extends BaseRpcContext<[BatchSource & { size: number }]> {
  get topic(): string {
    return this.args[0].topic;
  }
  get partition(): number {
    return this.args[0].partition;
  }
  get groupId(): string {
    return this.args[0].groupId;
  }
  /** Offsets of the first and last record fetched (dead-lettered ones included): the commit covers them all. */
  get firstOffset(): string {
    return this.args[0].firstOffset;
  }
  get lastOffset(): string {
    return this.args[0].lastOffset;
  }
  /** Records handed to the handler (the valid ones). */
  get size(): number {
    return this.args[0].size;
  }
}

type Events = {
  /** This instance was given these partitions (after every join, an empty list included). */
  'partitions-assigned': (event: PartitionsEvent) => void;
  /** This instance no longer owns these partitions (a rebalance started, or it stopped). */
  'partitions-revoked': (event: PartitionsEvent) => void;
};

const LAG_TIMEOUT_MS = 1_000;
const servers = new Set<KafkaServer>();
new Gauge({
  name: 'kafka_consumer_lag',
  help: 'Records not yet committed by a consumer group, per partition (end offset minus committed offset), as last read from Kafka',
  labelNames: ['group', 'topic', 'partition'] as const,
  registers: [metricsRegistry],
  async collect() {
    await Promise.all(
      [...servers].map(async (server) => {
        for (const { group, topic, partition, lag } of await server.readLag()) this.set({ group, topic, partition: String(partition) }, lag);
      }),
    );
  },
});

/**
 * Nest transport for Kafka, consuming in batches: one kafkajs consumer per `@KafkaBatch(contract,
 * { group })` handler, started in the background by `listen` (the app serves, and says in
 * readiness that it does not consume yet, while Kafka is away). It creates the topic and its
 * dead-letter topic when missing, dead-letters records that fail the contract (with the reason
 * in a header), hands the valid ones of each partition's batch to the handler, and commits only
 * once the handler resolved; a handler that fails holds its partition and is retried with
 * backoff. `close` finishes the batches in flight and leaves the groups.
 */
@Injectable()
export class KafkaServer extends Server<Events> implements CustomTransportStrategy {
  override transportId = KAFKA_TRANSPORT;
  /** A handler's failure must reach the consumer (which holds and retries the batch), not be logged and dropped. */
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(KafkaServer.name);
  private readonly consumers: GroupConsumer<object>[] = [];
  private readonly listeners: { [K in keyof Events]: Events[K][] } = { 'partitions-assigned': [], 'partitions-revoked': [] };
  private listening = false;
  private closing = false;
  private lagAdmin?: Promise<Admin>;
  private lagRead?: Promise<LagValue[] | undefined>;
  private lastLag: LagValue[] = [];

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(KAFKA_OPTIONS) private readonly options: KafkaModuleOptions,
    private readonly topics: KafkaTopics,
  ) {
    super();
  }

  /** Handlers are kept by topic and group: two groups of one app consume the same topic independently. */
  override addHandler(pattern: unknown, callback: MessageHandler, isEventHandler = false, extras: Record<string, unknown> = {}): void {
    const kafka = (extras as Partial<KafkaHandlerExtras>).kafka;
    if (!isEventHandler || !kafka) throw new Error(`${String(pattern)}: KafkaServer runs only handlers declared with @KafkaBatch`);
    super.addHandler({ topic: kafka.contract.topic, group: kafka.group }, callback, true, extras);
  }

  listen(callback: (error?: unknown) => void): void {
    const started: { consumer: GroupConsumer<object>; layout: ITopicConfig[] }[] = [];
    try {
      for (const handler of this.getHandlers().values())
        started.push(
          this.consumerFor(
            handler,
            started.map((s) => s.consumer),
          ),
        );
    } catch (error) {
      return callback(error);
    }
    this.closing = false;
    this.listening = true;
    this.consumers.push(...started.map((s) => s.consumer));
    servers.add(this);
    callback();
    for (const { consumer, layout } of started) consumer.launch(this.topics, layout);
  }

  private consumerFor(handler: MessageHandler, others: GroupConsumer<object>[]): { consumer: GroupConsumer<object>; layout: ITopicConfig[] } {
    const { contract, group } = (handler.extras as KafkaHandlerExtras).kafka;
    const override = this.options.topics?.[contract.topic] ?? {};
    const topic = override.topic ?? contract.topic;
    const groupId = override.groupId ?? group;
    const deadLetterTopic = override.topic ? `${override.topic}.dlq` : contract.deadLetterTopic;
    if (others.some((c) => c.topic === topic && c.groupId === groupId)) {
      throw new Error(`two @KafkaBatch handlers consume ${topic} in group ${groupId}; declare one`);
    }
    const consumer = new GroupConsumer<object>(
      this.kafka,
      {
        groupId,
        topic,
        deadLetterTopic,
        decode: contract.decode ?? ((value) => decodeMessage(contract.Message, value)),
        fromBeginning: true,
        concurrency: override.concurrency,
        maxBytesPerPartition: override.maxBytesPerPartition,
        handleBatch: async (batch: ConsumedMessage<object>[], source: BatchSource) => {
          const context = new KafkaBatchContext([{ ...source, size: batch.length }]);
          await lastValueFrom(this.transformToObservable(await handler(batch, context)), { defaultValue: undefined });
        },
        onPartitions: (change, event) => {
          for (const listener of this.listeners[change === 'assigned' ? 'partitions-assigned' : 'partitions-revoked']) listener(event);
        },
      },
      new Logger(`KafkaServer:${groupId}`),
    );
    const layout = [
      { topic, numPartitions: override.partitions ?? contract.partitions },
      { topic: deadLetterTopic, numPartitions: 1 },
    ];
    return { consumer, layout };
  }

  /**
   * For readiness: undefined when every consumer has joined its group and no partition is
   * stalled, else why not, naming the group. Undefined once closing: shutdown is reported by the
   * app's own readiness, and the consumers leaving must not make it flap.
   */
  notReadyReason(): string | undefined {
    if (this.closing) return undefined;
    if (!this.listening) return 'the Kafka transport has not started';
    const reasons = this.consumers.map((c) => c.notReadyReason()).filter((r): r is string => r !== undefined);
    return reasons.length > 0 ? reasons.join('; ') : undefined;
  }

  /** `partitions-assigned` / `partitions-revoked`, for handlers that keep state per partition. */
  on<EventKey extends keyof Events = keyof Events, EventCallback extends Events[EventKey] = Events[EventKey]>(event: EventKey, callback: EventCallback): void {
    if (!(event in this.listeners)) throw new Error(`KafkaServer has no event ${String(event)}`);
    this.listeners[event].push(callback);
  }

  /** The kafkajs consumers connected now. */
  unwrap<T = Consumer[]>(): T {
    return this.consumers.map((c) => c.client).filter((c): c is Consumer => c !== undefined) as T;
  }

  async close(): Promise<void> {
    this.closing = true;
    servers.delete(this);
    await Promise.all(this.consumers.map((c) => c.stop(this.options.closeTimeoutMs ?? 10_000)));
    const admin = this.lagAdmin;
    this.lagAdmin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }

  /**
   * Lag per group and partition, read from Kafka with a deadline; the last values when Kafka
   * does not answer in time, so a scrape never hangs or fails on it. One read at a time.
   */
  async readLag(): Promise<LagValue[]> {
    this.lagRead ??= this.fetchLag().finally(() => (this.lagRead = undefined));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), LAG_TIMEOUT_MS)));
    const values = await Promise.race([this.lagRead, late]).finally(() => clearTimeout(timer));
    if (values) this.lastLag = values;
    return this.lastLag;
  }

  private async fetchLag(): Promise<LagValue[] | undefined> {
    try {
      this.lagAdmin ??= (async () => {
        const admin = createProbeKafka(this.options, 'lag').admin();
        await admin.connect();
        return admin;
      })();
      const admin = await this.lagAdmin;
      if (this.closing) throw new Error('the transport is closing');
      const values: LagValue[] = [];
      for (const { groupId, topic } of this.consumers) {
        // End offsets first and alone: they load the cluster's metadata, which a fresh admin without
        // retries needs before it can find the group's coordinator.
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const end of ends) {
          const offset = BigInt(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1');
          // Nothing committed yet: the group starts from the beginning, so all that is kept is lag.
          const from = offset >= 0n ? offset : BigInt(end.low);
          const lag = BigInt(end.high) - from;
          values.push({ group: groupId, topic, partition: end.partition, lag: Number(lag > 0n ? lag : 0n) });
        }
      }
      return values;
    } catch (error) {
      // A client that lost its broker is thrown away rather than trusted to recover.
      const admin = this.lagAdmin;
      this.lagAdmin = undefined;
      void admin?.then((a) => a.disconnect()).catch(() => undefined);
      this.logger.debug(`cannot read the consumer lag: ${(error as Error).message}`);
      return undefined;
    }
  }
}

interface LagValue {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}
