import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { CompressionTypes, IHeaders, Kafka, Producer, TopicMessages } from 'kafkajs';
import { MessageHeaders } from '@app/contracts';
import { acceptCorrelationId, correlationId as currentCorrelationId, failSpan, SpanKind, startClientSpan, traceHeaders, tracingOn } from '@app/observability';
import { KAFKA } from './kafka.module';

export interface OutgoingMessage {
  key: string;
  /** The value, encoded here as JSON; or, with `json`, already encoded by the producer (then absent). */
  value?: object;
  json?: string;
  messageId: string;
  correlationId?: string;
  /** Extra headers (e.g. the dead-letter reason). */
  headers?: Record<string, string>;
}

/** Optional provider token for {@link KafkaPublisherOptions}. */
export const KAFKA_PUBLISHER_OPTIONS = Symbol('KAFKA_PUBLISHER_OPTIONS');

export interface KafkaPublisherOptions {
  /** A publish that the broker has not acknowledged within this time is rejected. */
  timeoutMs?: number;
  /** Value of the `schema-version` header. */
  schemaVersion?: string;
  /** Largest number of messages coalesced into one produce request. */
  maxMessagesPerRequest?: number;
  /**
   * Largest payload coalesced into one produce request. Keys may send everything to one
   * partition, so this keeps any partition's record batch under the broker's message.max.bytes (1 MiB by default).
   */
  maxBytesPerRequest?: number;
}

/** A record sent as it is: key, value and headers untouched (a dead letter going back to its topic). */
export interface RawRecord {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: IHeaders;
}

interface Pending {
  topic: string;
  bytes: number;
  messages: RawRecord[];
  resolve: () => void;
  reject: (error: Error) => void;
  settled: boolean;
}

/**
 * Idempotent producer with acks from all in-sync replicas. Concurrent `publish` calls are
 * coalesced into one produce request while the previous one is in flight (kafkajs allows one
 * in-flight request per broker for an idempotent producer), which is what makes many small
 * HTTP requests cheap. After any failure the producer is replaced: a fresh producer id means
 * fresh sequence numbers, so a request whose outcome is unknown can never make the broker
 * mistake later messages for duplicates.
 */
@Injectable()
export class KafkaPublisher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KafkaPublisher.name);
  private producer?: Producer;
  private connecting?: Promise<Producer>;
  private queue: Pending[] = [];
  private flushing = false;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly schemaVersion: string;
  private readonly maxPerRequest: number;
  private readonly maxBytes: number;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Optional() @Inject(KAFKA_PUBLISHER_OPTIONS) options: KafkaPublisherOptions = {},
  ) {
    options ??= {};
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.schemaVersion = options.schemaVersion ?? '1';
    this.maxPerRequest = options.maxMessagesPerRequest ?? 20_000;
    this.maxBytes = options.maxBytesPerRequest ?? 800_000;
  }

  async onModuleInit(): Promise<void> {
    // Best effort: the app may start while Kafka is down; publish connects on demand.
    await this.getProducer().catch((error: Error) => this.logger.warn(`Kafka producer not connected yet: ${error.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.producer?.disconnect().catch(() => undefined);
  }

  /** Resolves only when the broker acknowledged every message (acks=-1); rejects otherwise. */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the Kafka publisher is shut down'));
    const fallbackCorrelation = currentCorrelationId();
    // One producer span per call, however many records (an upload's chunk is one), its context in every record's headers.
    const span = tracingOn() ? publishSpan(topic, messages.length, fallbackCorrelation) : undefined;
    const context = span ? traceHeaders(span) : undefined;
    const encoded = messages.map((m) => {
      const headers: IHeaders = {
        ...m.headers,
        [MessageHeaders.MessageId]: m.messageId,
        [MessageHeaders.CorrelationId]: m.correlationId === undefined ? fallbackCorrelation : acceptCorrelationId(m.correlationId),
        [MessageHeaders.SchemaVersion]: this.schemaVersion,
      };
      if (context) Object.assign(headers, context);
      return { key: m.key, value: m.json ?? JSON.stringify(m.value), headers };
    });
    // Split into parts that each fit one request; the call resolves when every part is acknowledged.
    const parts: Promise<void>[] = [];
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < encoded.length; i++) {
      const size = sizeOf(encoded[i]);
      if (i > start && bytes + size > this.maxBytes) {
        parts.push(this.enqueue(topic, encoded.slice(start, i), bytes));
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    parts.push(this.enqueue(topic, encoded.slice(start), bytes));
    const acknowledged = Promise.all(parts).then(() => undefined);
    if (!span) return acknowledged;
    return acknowledged.then(
      () => span.end(),
      (error: unknown) => {
        failSpan(span, error);
        span.end();
        throw error;
      },
    );
  }

  /**
   * Records as they are, without the encoding and headers of `publish` (a replayed dead letter keeps
   * its bytes, its key and its headers). Resolves once the broker acknowledged them all (acks=-1).
   */
  publishRecords(topic: string, records: RawRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the Kafka publisher is shut down'));
    const parts: Promise<void>[] = [];
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < records.length; i++) {
      const size = sizeOf(records[i]);
      if (i > start && bytes + size > this.maxBytes) {
        parts.push(this.enqueue(topic, records.slice(start, i), bytes));
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    parts.push(this.enqueue(topic, records.slice(start), bytes));
    return Promise.all(parts).then(() => undefined);
  }

  private enqueue(topic: string, messages: Pending['messages'], bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { topic, bytes, messages, resolve, reject, settled: false };
      const timer = setTimeout(() => {
        settle(pending, new Error(`Kafka did not acknowledge within ${this.timeoutMs} ms`));
        // The request may still land; its outcome is unknown, so never reuse this producer's sequences.
        this.discardProducer();
      }, this.timeoutMs);
      pending.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
      pending.reject = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      this.queue.push(pending);
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch: Pending[] = [];
        let count = 0;
        let bytes = 0;
        while (
          this.queue.length > 0 &&
          (batch.length === 0 || (count + this.queue[0].messages.length <= this.maxPerRequest && bytes + this.queue[0].bytes <= this.maxBytes))
        ) {
          const next = this.queue.shift()!;
          if (next.settled) continue;
          batch.push(next);
          count += next.messages.length;
          bytes += next.bytes;
        }
        if (batch.length === 0) continue;
        try {
          const producer = await this.getProducer();
          const byTopic = new Map<string, TopicMessages>();
          for (const p of batch) {
            const entry = byTopic.get(p.topic) ?? { topic: p.topic, messages: [] };
            entry.messages.push(...p.messages);
            byTopic.set(p.topic, entry);
          }
          await producer.sendBatch({ topicMessages: [...byTopic.values()], acks: -1, compression: CompressionTypes.None });
          for (const p of batch) settle(p);
        } catch (error) {
          this.discardProducer();
          for (const p of batch) settle(p, error as Error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private getProducer(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // Bounded retries: a request is failed (and the store told 503) rather than retried forever.
        retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
      });
      try {
        await producer.connect();
        this.producer = producer;
        return producer;
      } catch (error) {
        await producer.disconnect().catch(() => undefined);
        throw error;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  private discardProducer(): void {
    const old = this.producer;
    this.producer = undefined;
    void old?.disconnect().catch(() => undefined);
  }
}

function publishSpan(topic: string, count: number, correlationId: string) {
  return startClientSpan({
    name: `publish ${topic}`,
    kind: SpanKind.PRODUCER,
    correlationId,
    attributes: {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.destination.name': topic,
      'messaging.batch.message_count': count,
    },
  });
}

function sizeOf(message: RawRecord): number {
  let size = (message.key?.length ?? 0) + (message.value?.length ?? 0) + 70;
  for (const [name, value] of Object.entries(message.headers)) size += name.length + String(value).length;
  return size;
}

function settle(p: Pending, error?: Error): void {
  if (p.settled) return;
  p.settled = true;
  if (error) p.reject(error);
  else p.resolve();
}
