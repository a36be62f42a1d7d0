import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy, ReadPacket, WritePacket } from '@nestjs/microservices';
import { from, Observable } from 'rxjs';
import { checkContract, TopicContract } from '@app/contracts';
import { KafkaPublisher } from './kafka-publisher';
import { KafkaTopics } from './kafka.factory';
import { KAFKA_OPTIONS, KafkaModuleOptions } from './kafka.tokens';

/** One record of a topic: its key (the partition), its value, and an id that says what it is about. */
export interface KafkaRecord<T> {
  key: string;
  value: T;
  messageId: string;
  correlationId?: string;
}

/** A record whose value is already JSON text (see {@link KafkaClient.dispatchEncoded}). */
export interface EncodedKafkaRecord {
  key: string;
  json: string;
  messageId: string;
  correlationId?: string;
}

/**
 * Nest's ClientProxy over Kafka, through the topic contracts of libs/contracts. `emit(topic,
 * records)` makes sure the topic and its dead-letter topic exist (laid out as the contract and the
 * module's overrides say), checks each record against the contract, and completes once Kafka
 * acknowledged every record (idempotent producer, acks from all in-sync replicas, concurrent calls
 * coalesced: `KafkaPublisher`). Kafka carries events only here: `send` is refused.
 *
 * A topic whose contract has a hand-written `decode` (a high-rate topic) is not checked again here:
 * its producer applies the same hand-written rules to every record before it emits (ingest's
 * `validateStockEvent`), and class-validator would cost ~20 µs a record.
 */
@Injectable()
export class KafkaClient extends ClientProxy {
  private readonly prepared = new Map<string, Promise<void>>();

  constructor(
    private readonly publisher: KafkaPublisher,
    private readonly topics: KafkaTopics,
    @Inject(KAFKA_OPTIONS) private readonly options: KafkaModuleOptions,
  ) {
    super();
  }

  async connect(): Promise<void> {
    // The publisher connects on demand and after every failure.
  }

  unwrap<T>(): T {
    return this.publisher as T;
  }

  async close(): Promise<void> {
    // The publisher closes with the app (it is a provider of its own).
  }

  /** The topic's name here (a test or a benchmark may run on a topic of its own). */
  topicOf(contract: TopicContract): string {
    return this.options.topics?.[contract.topic]?.topic ?? contract.topic;
  }

  override emit<T extends object>(contract: TopicContract<T>, records: KafkaRecord<T> | KafkaRecord<T>[]): Observable<void>;
  /** @deprecated Nest's untyped form: refused at run time; pass a TopicContract. */
  override emit<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult>;
  override emit(contract: unknown, records: unknown): Observable<unknown> {
    // Sent now, as Nest's emit does, whether or not anyone subscribes; a failure nobody waits for is not unhandled.
    const sent = isTopicContract(contract)
      ? this.dispatch(contract, records as KafkaRecord<object>[])
      : Promise.reject(new Error('KafkaClient emits through a TopicContract: emit(contract, records)'));
    sent.catch(() => undefined);
    return from(sent);
  }

  /** `emit` as a promise: resolves once Kafka acknowledged every record. */
  async dispatch<T extends object>(contract: TopicContract<T>, records: KafkaRecord<T> | KafkaRecord<T>[]): Promise<void> {
    const list = Array.isArray(records) ? records : [records];
    if (!contract.decode) {
      for (const record of list) {
        const checked = checkContract(contract.Message, record.value);
        if (!checked.ok) throw new Error(`refusing to send an invalid ${contract.topic} record (${record.messageId}): ${checked.problems}`);
      }
    }
    await this.prepare(contract);
    await this.publisher.publish(this.topicOf(contract), list);
  }

  /**
   * `dispatch` for records their producer already validated and encoded as JSON, once: only the text
   * is held until Kafka acknowledged it (an upload of 50,000 events keeps one string per event, not
   * the event as well). Only for topics whose contract has a hand-written `decode`, whose producer
   * applies the same rules before it encodes; a class-validator contract needs the value to check it.
   */
  async dispatchEncoded(contract: TopicContract, records: EncodedKafkaRecord[]): Promise<void> {
    if (!contract.decode) throw new Error(`refusing pre-encoded ${contract.topic} records: its contract is checked on the value (use dispatch)`);
    await this.prepare(contract);
    await this.publisher.publish(this.topicOf(contract), records);
  }

  /** Makes sure the topic and its dead-letter topic exist; done once, again after a failure. */
  prepare(contract: TopicContract): Promise<void> {
    const name = this.topicOf(contract);
    let prepared = this.prepared.get(name);
    if (!prepared) {
      prepared = this.topics.ensure(this.layout(contract)).catch((error: Error) => {
        this.prepared.delete(name);
        // Another instance created it between our listing and our create: that is success.
        if (!/already exists/i.test(error.message)) throw error;
      });
      this.prepared.set(name, prepared);
    }
    return prepared;
  }

  /**
   * `prepare` in the background, retried until Kafka answers, so that the first emit after a start
   * does not wait for topic creation; the app serves meanwhile. Stops when `stopped()` says so,
   * after the attempt under way; the promise (which never rejects) says when, so a shutdown can wait for it.
   */
  prepareEventually(contract: TopicContract, stopped: () => boolean = () => false): Promise<void> {
    return this.topics.ensureEventually(this.layout(contract), stopped).then(
      (done) => {
        if (done) this.prepared.set(this.topicOf(contract), Promise.resolve());
      },
      () => undefined,
    );
  }

  private layout(contract: TopicContract) {
    const name = this.topicOf(contract);
    const partitions = this.options.topics?.[contract.topic]?.partitions ?? contract.partitions;
    return [
      { topic: name, numPartitions: partitions },
      { topic: `${name}.dlq`, numPartitions: 1 },
    ];
  }

  /** Nest's generic path: this client emits only through contracts (`emit` above). */
  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new Error('Kafka carries events only here: emit(contract, records)'), isDisposed: true });
    return () => undefined;
  }

  protected dispatchEvent<T = unknown>(_packet: ReadPacket): Promise<T> {
    return Promise.reject(new Error('KafkaClient emits through a TopicContract: emit(contract, records)'));
  }
}

function isTopicContract(value: unknown): value is TopicContract {
  return typeof value === 'object' && value !== null && (value as { transport?: unknown }).transport === 'kafka';
}
