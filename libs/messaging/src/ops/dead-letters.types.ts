import { DomainError, QueueContract } from '@app/contracts';

export type DeadLetterTransport = 'kafka' | 'rabbitmq';

/** One dead-letter topic or queue of the system, from the topology in libs/contracts. */
export interface DeadLetterQueue {
  /** The dead-letter topic or queue (`stock.events.v1.dlq`, `mail.send.dlq`). */
  name: string;
  /** The topic or queue its messages came from, and go back to when replayed. */
  source: string;
  transport: DeadLetterTransport;
  /** RabbitMQ: the source queue's contract (a broadcast queue is replayed through its exchange). */
  queue?: QueueContract;
}

export interface DeadLetterSummary {
  name: string;
  source: string;
  transport: DeadLetterTransport;
  /** Messages waiting in it (replayed ones are not counted); null, with `error`, when the broker did not answer. */
  count: number | null;
  /** When the oldest of them was dead-lettered. */
  oldestAt: string | null;
  error?: string;
}

export interface DeadLetterMessage {
  /** Stable per dead-lettered message: Kafka `<partition>-<offset>`, RabbitMQ the id the transport gave the copy. */
  id: string;
  reason: string;
  deadLetteredAt: string | null;
  source: string;
  /** The message as it was consumed: its JSON, or the text when it was not JSON. */
  payload: unknown;
}

export interface ReplayResult {
  replayed: number;
  /** Ids asked for that were not replayed: unknown, or replayed already (by this call's twin on another instance, say). */
  skipped: string[];
}

/**
 * The durable record of what was replayed from a Kafka dead-letter topic (Kafka cannot delete a
 * record): one row per (topic, partition, offset). A claim is an insert-if-not-exists with a short
 * lifetime, taken before the record is produced again, so two replays of the same id never both
 * produce it; it becomes permanent once the record is back on its source, and goes away (or is
 * released) if the replay fails, so the record shows again and can be replayed later.
 */
export interface ReplayLedger {
  /** Offsets in [from, to) that are replayed, or claimed by a replay under way. */
  replayed(topic: string, partition: number, from: bigint, to: bigint): Promise<Set<bigint>>;
  /** How many offsets in [from, to) are replayed or claimed. */
  countReplayed(topic: string, partition: number, from: bigint, to: bigint): Promise<number>;
  /** True when this call took the claim (nobody replayed or is replaying that record). */
  claim(topic: string, partition: number, offset: bigint, owner: string): Promise<boolean>;
  /** The record is back on its source: the claim is kept for good. */
  confirm(topic: string, partition: number, offset: bigint, owner: string): Promise<void>;
  /** The replay failed: the claim is given back. */
  release(topic: string, partition: number, offset: bigint, owner: string): Promise<void>;
}

/** Injection token of the app's {@link ReplayLedger} (the api keeps it in Cassandra). */
export const DEAD_LETTER_REPLAY_LEDGER = Symbol('DEAD_LETTER_REPLAY_LEDGER');

export const DeadLetterErrorCodes = {
  UnknownQueue: 'DEAD_LETTERS.UNKNOWN_QUEUE',
  InvalidId: 'DEAD_LETTERS.INVALID_ID',
  Unavailable: 'DEAD_LETTERS.UNAVAILABLE',
  SourceMissing: 'DEAD_LETTERS.SOURCE_MISSING',
} as const;

export function unavailable(message: string): DomainError {
  return new DomainError(DeadLetterErrorCodes.Unavailable, 'unavailable', message);
}
