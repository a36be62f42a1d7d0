import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AmqpConnectionManager } from 'amqp-connection-manager';
import { Kafka } from 'kafkajs';
import { DomainError, QueueContracts, TopicContracts } from '@app/contracts';
import { KAFKA, KAFKA_OPTIONS, type KafkaOptions } from '../kafka/kafka.tokens';
import { RABBITMQ_CONNECTION } from '../rabbitmq/rabbitmq.tokens';
import { deadLetterQueue } from '../rabbitmq/rabbitmq.server';
import { DeadlineExceeded, withDeadline } from './deadline';
import {
  DEAD_LETTER_REPLAY_LEDGER,
  DeadLetterErrorCodes,
  DeadLetterMessage,
  DeadLetterQueue,
  DeadLetterSummary,
  DeadLetterTransport,
  ReplayLedger,
  ReplayResult,
  unavailable,
} from './dead-letters.types';
import { KafkaDeadLetters, parseKafkaId } from './kafka-dead-letters';
import { RabbitDeadLetters } from './rabbitmq-dead-letters';

/** How long reading a dead-letter topic may take (the first read of a topic joins a consumer group). */
const READ_TIMEOUT_MS = 8_000;
/** How long counting one queue may take in a listing or a scrape. */
const COUNT_TIMEOUT_MS = 2_500;
/** How long one replay call may take before the caller is told to look again (the replay itself finishes). */
const REPLAY_TIMEOUT_MS = 60_000;
const MAX_ID_LENGTH = 200;

/** Every dead-letter topic and queue of the topology in libs/contracts, whether or not anything was ever dead-lettered there. */
export function deadLetterQueues(): DeadLetterQueue[] {
  const kafka: DeadLetterQueue[] = Object.values(TopicContracts).map((t) => ({ name: t.deadLetterTopic, source: t.topic, transport: 'kafka' }));
  const rabbit: DeadLetterQueue[] = Object.values(QueueContracts)
    .filter((q) => q.kind !== 'rpc')
    .map((q) => ({ name: deadLetterQueue(q.name), source: q.name, transport: 'rabbitmq', queue: q }));
  return [...kafka, ...rabbit];
}

/**
 * The operators' view of the dead letters of the whole system (API.md "Operators"): every
 * dead-letter topic and queue with its depth and oldest message, the messages of one, and their
 * replay to where they came from. Kafka through {@link KafkaDeadLetters}, RabbitMQ through
 * {@link RabbitDeadLetters}; every broker call has a deadline, and a broker that does not answer
 * is a 503-kind DomainError (or, in a listing, an entry that says so), never a hang or a 500.
 */
@Injectable()
export class DeadLetters implements OnApplicationShutdown {
  private readonly logger = new Logger(DeadLetters.name);
  private readonly queues = deadLetterQueues();
  private readonly kafka: KafkaDeadLetters;
  private readonly rabbit: RabbitDeadLetters;
  /** The last count read of each queue, for a scrape that finds a broker slow. */
  private readonly lastCounts = new Map<string, number>();
  /** One replay at a time per queue in this instance (other instances are kept apart by the brokers and the ledger). */
  private readonly replaying = new Map<string, Promise<unknown>>();

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    @Inject(KAFKA_OPTIONS) kafkaOptions: KafkaOptions,
    @Inject(RABBITMQ_CONNECTION) connection: AmqpConnectionManager,
    @Inject(DEAD_LETTER_REPLAY_LEDGER) ledger: ReplayLedger,
  ) {
    this.kafka = new KafkaDeadLetters(kafka, kafkaOptions, ledger, READ_TIMEOUT_MS);
    this.rabbit = new RabbitDeadLetters(connection);
  }

  /** Every dead-letter topic and queue, with its count and the time of its oldest message. */
  async list(): Promise<DeadLetterSummary[]> {
    return Promise.all(
      this.queues.map(async (queue) => {
        const entry = { name: queue.name, source: queue.source, transport: queue.transport };
        try {
          const summary = await this.bounded(queue, 'count', this.of(queue).summary(queue), READ_TIMEOUT_MS);
          this.lastCounts.set(queue.name, summary.count);
          return { ...entry, ...summary };
        } catch (error) {
          return { ...entry, count: null, oldestAt: null, error: (error as Error).message };
        }
      }),
    );
  }

  /** Counts only (for a scrape): the last known count of a queue whose broker did not answer within `timeoutMs`. */
  async counts(timeoutMs = COUNT_TIMEOUT_MS): Promise<{ name: string; transport: DeadLetterTransport; count: number }[]> {
    const counts = await Promise.all(
      this.queues.map(async (queue) => {
        try {
          const count = await this.bounded(queue, 'count', this.of(queue).count(queue), timeoutMs);
          this.lastCounts.set(queue.name, count);
          return count;
        } catch {
          return this.lastCounts.get(queue.name);
        }
      }),
    );
    return this.queues.flatMap((queue, i) => (counts[i] === undefined ? [] : [{ name: queue.name, transport: queue.transport, count: counts[i]! }]));
  }

  /** The oldest `limit` messages of `name`, oldest first, left where they are. */
  async inspect(name: string, limit: number): Promise<DeadLetterMessage[]> {
    const queue = this.find(name);
    return this.bounded(queue, 'read', this.of(queue).inspect(queue, limit), READ_TIMEOUT_MS + 2_000);
  }

  /**
   * Sends the messages `ids` of `name` (all of them when undefined) back to their source and takes
   * them out of the dead letters. Ids that are unknown or replayed already are skipped.
   */
  async replay(name: string, ids?: string[]): Promise<ReplayResult> {
    const queue = this.find(name);
    if (ids !== undefined) this.checkIds(queue, ids);
    const previous = this.replaying.get(name) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.of(queue).replay(queue, ids));
    const tail = run.catch(() => undefined);
    this.replaying.set(name, tail);
    void tail.finally(() => {
      if (this.replaying.get(name) === tail) this.replaying.delete(name);
    });
    return this.bounded(queue, 'replay', run, REPLAY_TIMEOUT_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.kafka.close().catch((error: Error) => this.logger.warn(`closing the dead-letter readers: ${error.message}`));
  }

  private find(name: string): DeadLetterQueue {
    const queue = this.queues.find((q) => q.name === name);
    if (queue) return queue;
    const shown = name.length > 100 ? `${name.slice(0, 100)}…` : name;
    throw new DomainError(
      DeadLetterErrorCodes.UnknownQueue,
      'not_found',
      `There is no dead-letter queue named "${shown}". GET /v1/ops/dead-letters lists them: ${this.queues.map((q) => q.name).join(', ')}.`,
    );
  }

  private checkIds(queue: DeadLetterQueue, ids: string[]): void {
    for (const id of ids) {
      if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
        throw new DomainError(
          DeadLetterErrorCodes.InvalidId,
          'invalid',
          `Every id must be a string of 1–${MAX_ID_LENGTH} characters, as GET /v1/ops/dead-letters/${queue.name} lists them.`,
        );
      }
      if (queue.transport === 'kafka' && !parseKafkaId(id)) {
        const shown = id.length > 60 ? `${id.slice(0, 60)}…` : id;
        throw new DomainError(
          DeadLetterErrorCodes.InvalidId,
          'invalid',
          `"${shown}" is not an id of ${queue.name}: its ids are <partition>-<offset> (e.g. "0-42"), as GET /v1/ops/dead-letters/${queue.name} lists them.`,
        );
      }
    }
  }

  private of(queue: DeadLetterQueue): KafkaDeadLetters | RabbitDeadLetters {
    return queue.transport === 'kafka' ? this.kafka : this.rabbit;
  }

  /** `work` within `ms`; a broker that fails or is late becomes a 503-kind DomainError naming it. */
  private async bounded<T>(queue: DeadLetterQueue, what: 'count' | 'read' | 'replay', work: Promise<T>, ms: number): Promise<T> {
    const broker = queue.transport === 'kafka' ? 'Kafka' : 'RabbitMQ';
    try {
      return await withDeadline(work, ms, `${broker} did not answer within ${ms} ms`);
    } catch (error) {
      if (error instanceof DomainError) throw error;
      if (error instanceof DeadlineExceeded && what === 'replay') {
        throw unavailable(`The replay of ${queue.name} is taking longer than ${ms / 1000} s; it goes on. List the queue again to see what is left.`);
      }
      this.logger.warn({ msg: `dead letters of ${queue.name}: ${what} failed`, err: (error as Error).message });
      const cause = error instanceof DeadlineExceeded ? error.message : `${broker} failed: ${(error as Error).message}`;
      throw unavailable(`Cannot ${what} ${queue.name}: ${cause}. Try again in a moment.`);
    }
  }
}
