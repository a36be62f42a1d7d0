/** Injection token of the app's kafkajs client (built by `createKafka`). */
export const KAFKA = Symbol('KAFKA');
export const KAFKA_OPTIONS = Symbol('KAFKA_OPTIONS');

/** What `createKafka` needs to build a client. */
export interface KafkaOptions {
  clientId: string;
  brokers: string[];
}

/** Settings of one topic contract's consumers (`KafkaServer`) and producers (`KafkaClient`) that differ from the contract and the decorator. */
export interface KafkaTopicOverrides {
  /** The topic actually consumed (its dead-letter topic is this name + `.dlq`); another name isolates a test or a benchmark. */
  topic?: string;
  /** Replaces the group named by the handler's decorator. */
  groupId?: string;
  /** Partitions of the topic when it has to be created. */
  partitions?: number;
  /** Partitions this instance handles at the same time (default 3). */
  concurrency?: number;
  /** Bytes fetched per partition per batch (default 4 MiB): bigger batches, fewer writes per record. */
  maxBytesPerPartition?: number;
}

/** `KafkaModule.forRoot` options: the client, and the topics' settings for `KafkaServer` and `KafkaClient`. */
export interface KafkaModuleOptions extends KafkaOptions {
  /** Per topic contract, by the contract's topic name (e.g. `TopicContracts.StockEvents.topic`). */
  topics?: Record<string, KafkaTopicOverrides>;
  /** How long `KafkaServer.close` waits for the batches in flight before it leaves them uncommitted (default 10 s). */
  closeTimeoutMs?: number;
}
