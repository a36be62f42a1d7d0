import { Logger } from '@nestjs/common';
import { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { DomainError } from '@app/contracts';
import { KafkaPublisher, RawRecord } from '../kafka/kafka-publisher';
import type { KafkaOptions } from '../kafka/kafka.tokens';
import { DEAD_LETTER_ONLY_HEADERS, DeadLetterHeaders, headerText, isoTime, readablePayload } from './dead-letter-headers';
import { DeadLetterErrorCodes, DeadLetterMessage, DeadLetterQueue, ReplayLedger, ReplayResult } from './dead-letters.types';
import { KafkaTopicReader } from './kafka-topic-reader';
import { LazyKafkaAdmin } from './lazy-kafka-admin';

/** A partition of a dead-letter topic: what Kafka keeps of it, [low, high). */
interface PartitionRange {
  partition: number;
  low: bigint;
  high: bigint;
}

const KAFKA_ID = /^(\d{1,9})-(\d{1,19})$/;
/** Records replayed per produce request (and per round of claims). */
const REPLAY_CHUNK = 200;
const CLAIM_CONCURRENCY = 16;
/** How long a listing waits to learn when the oldest record was dead-lettered (its count does not wait for it). */
const OLDEST_TIMEOUT_MS = 5_000;

/** `<partition>-<offset>` as {partition, offset}, or undefined when `id` is not one. */
export function parseKafkaId(id: string): { partition: number; offset: bigint } | undefined {
  const match = KAFKA_ID.exec(id);
  return match ? { partition: Number(match[1]), offset: BigInt(match[2]) } : undefined;
}

/**
 * The Kafka dead-letter topics: counted from offsets and the replay ledger, read by offset with
 * {@link KafkaTopicReader}, replayed by producing each record again to its source topic (same
 * key, value and headers, acks from all in-sync replicas) after claiming it in the ledger. A
 * message's id is `<partition>-<offset>` in its dead-letter topic.
 */
export class KafkaDeadLetters {
  private readonly logger = new Logger(KafkaDeadLetters.name);
  private readonly readers = new Map<string, KafkaTopicReader>();
  private readonly publisher: KafkaPublisher;
  /** When the record at topic/partition/offset was dead-lettered (records never change). */
  private readonly times = new Map<string, string | null>();
  private readonly admin: LazyKafkaAdmin;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaOptions,
    private readonly ledger: ReplayLedger,
    private readonly readTimeoutMs: number,
  ) {
    this.publisher = new KafkaPublisher(kafka, { timeoutMs: 10_000 });
    this.admin = new LazyKafkaAdmin(options, 'dead-letters');
  }

  async count(queue: DeadLetterQueue): Promise<number> {
    let count = 0;
    for (const range of await this.partitions(queue.name)) {
      if (range.high <= range.low) continue;
      count += Number(range.high - range.low) - (await this.ledger.countReplayed(queue.name, range.partition, range.low, range.high));
    }
    return Math.max(0, count);
  }

  async summary(queue: DeadLetterQueue): Promise<{ count: number; oldestAt: string | null }> {
    let count = 0;
    let oldestAt: string | null = null;
    for (const range of await this.partitions(queue.name)) {
      if (range.high <= range.low) continue;
      const replayed = await this.ledger.replayed(queue.name, range.partition, range.low, range.high);
      count += Number(range.high - range.low) - replayed.size;
      const first = firstNotIn(replayed, range.low, range.high);
      if (first === undefined) continue;
      // The count stands on offsets alone; a read that does not come in time leaves only the time unknown.
      const at = await this.timeOf(queue, range.partition, first, replayed, range.high).catch((error: Error) => {
        this.logger.warn({ msg: `cannot read the oldest dead letter of ${queue.name}`, err: error.message });
        return null;
      });
      if (at && (oldestAt === null || at < oldestAt)) oldestAt = at;
    }
    return { count: Math.max(0, count), oldestAt };
  }

  /** The oldest `limit` messages not replayed, oldest first. */
  async inspect(queue: DeadLetterQueue, limit: number): Promise<DeadLetterMessage[]> {
    const found: { partition: number; message: KafkaMessage }[] = [];
    for (const range of await this.partitions(queue.name)) {
      if (range.high <= range.low) continue;
      const replayed = await this.ledger.replayed(queue.name, range.partition, range.low, range.high);
      const first = firstNotIn(replayed, range.low, range.high);
      if (first === undefined) continue;
      const records = await this.reader(queue.name).read(
        { partition: range.partition, from: first, until: range.high, limit, skip: (offset) => replayed.has(offset) },
        this.readTimeoutMs,
      );
      for (const message of records) found.push({ partition: range.partition, message });
    }
    const messages = found.map(({ partition, message }) => this.describe(queue, partition, message));
    // One partition is in offset order already; several are merged by time.
    if (found.length > 0 && new Set(found.map((f) => f.partition)).size > 1)
      messages.sort((a, b) => (a.deadLetteredAt ?? '').localeCompare(b.deadLetteredAt ?? ''));
    return messages.slice(0, limit);
  }

  /** Replays the messages `ids` (every one not replayed yet when undefined); `ids` must be Kafka ids already. */
  async replay(queue: DeadLetterQueue, ids?: string[]): Promise<ReplayResult> {
    const ranges = await this.partitions(queue.name);
    if (ids === undefined) {
      let replayed = 0;
      // Up to the end as it is now: a poison record that comes back while this runs waits for the next replay.
      for (const range of ranges) {
        for (let from = range.low; from < range.high;) {
          const done = await this.ledger.replayed(queue.name, range.partition, from, range.high);
          const start = firstNotIn(done, from, range.high);
          if (start === undefined) break;
          const records = await this.reader(queue.name).read(
            { partition: range.partition, from: start, until: range.high, limit: REPLAY_CHUNK, skip: (offset) => done.has(offset) },
            this.readTimeoutMs,
          );
          if (records.length === 0) break;
          replayed += await this.replayRecords(queue, range.partition, records);
          from = BigInt(records[records.length - 1].offset) + 1n;
        }
      }
      return { replayed, skipped: [] };
    }

    const wanted = new Map<number, Map<bigint, string>>();
    for (const id of new Set(ids)) {
      const parsed = parseKafkaId(id)!;
      const ofPartition = wanted.get(parsed.partition) ?? new Map<bigint, string>();
      ofPartition.set(parsed.offset, id);
      wanted.set(parsed.partition, ofPartition);
    }
    const replayedIds = new Set<string>();
    for (const [partition, offsets] of wanted) {
      const range = ranges.find((r) => r.partition === partition);
      if (!range) continue;
      const inRange = [...offsets.keys()].filter((o) => o >= range.low && o < range.high).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (inRange.length === 0) continue;
      const from = inRange[0];
      const until = inRange[inRange.length - 1] + 1n;
      const done = await this.ledger.replayed(queue.name, partition, from, until);
      const todo = new Set(inRange.filter((o) => !done.has(o)));
      if (todo.size === 0) continue;
      const records = await this.reader(queue.name).read({ partition, from, until, limit: todo.size, skip: (offset) => !todo.has(offset) }, this.readTimeoutMs);
      for (let i = 0; i < records.length; i += REPLAY_CHUNK) {
        const chunk = records.slice(i, i + REPLAY_CHUNK);
        for (const offset of await this.replayRecordsReturningOffsets(queue, partition, chunk)) replayedIds.add(offsets.get(offset)!);
      }
    }
    return { replayed: replayedIds.size, skipped: [...new Set(ids)].filter((id) => !replayedIds.has(id)) };
  }

  async close(): Promise<void> {
    await Promise.all([...this.readers.values()].map((r) => r.close()));
    this.readers.clear();
    await this.publisher.onApplicationShutdown();
    await this.admin.drop();
  }

  private async replayRecords(queue: DeadLetterQueue, partition: number, records: KafkaMessage[]): Promise<number> {
    return (await this.replayRecordsReturningOffsets(queue, partition, records)).length;
  }

  /**
   * Claims each record, produces the claimed ones to the source topic, then makes the claims
   * permanent. A failed produce gives the claims back (the records show again) and fails the call.
   */
  private async replayRecordsReturningOffsets(queue: DeadLetterQueue, partition: number, records: KafkaMessage[]): Promise<bigint[]> {
    const owner = randomUUID();
    const claimed: KafkaMessage[] = [];
    for (let i = 0; i < records.length; i += CLAIM_CONCURRENCY) {
      const slice = records.slice(i, i + CLAIM_CONCURRENCY);
      const taken = await Promise.all(slice.map((r) => this.ledger.claim(queue.name, partition, BigInt(r.offset), owner)));
      slice.forEach((r, j) => taken[j] && claimed.push(r));
    }
    if (claimed.length === 0) return [];
    try {
      await this.publisher.publishRecords(
        queue.source,
        claimed.map((r) => replayRecord(queue, partition, r)),
      );
    } catch (error) {
      await Promise.all(claimed.map((r) => this.ledger.release(queue.name, partition, BigInt(r.offset), owner).catch(() => undefined)));
      throw new DomainError(
        DeadLetterErrorCodes.Unavailable,
        'unavailable',
        `Kafka did not take the replayed messages back on ${queue.source}: ${(error as Error).message}; nothing was removed, try again.`,
      );
    }
    const offsets = claimed.map((r) => BigInt(r.offset));
    await Promise.all(
      offsets.map((offset) =>
        this.ledger.confirm(queue.name, partition, offset, owner).catch((error: Error) =>
          // The claim then runs out: the record shows again, and replaying it again changes nothing twice.
          this.logger.warn({ msg: 'a replayed record could not be marked replayed', topic: queue.name, partition, offset: String(offset), err: error.message }),
        ),
      ),
    );
    this.logger.log({ msg: `replayed ${offsets.length} record(s) of ${queue.name} to ${queue.source}`, partition });
    return offsets;
  }

  private describe(queue: DeadLetterQueue, partition: number, message: KafkaMessage): DeadLetterMessage {
    const headers = message.headers as Record<string, unknown> | undefined;
    return {
      id: `${partition}-${message.offset}`,
      reason: headerText(headers, DeadLetterHeaders.Reason) ?? 'no reason was recorded',
      deadLetteredAt: deadLetteredAt(message),
      source: headerText(headers, DeadLetterHeaders.OriginalTopic) ?? queue.source,
      payload: readablePayload(message.value),
    };
  }

  /** When the record at `offset` was dead-lettered; reads it once, then remembers. */
  private async timeOf(queue: DeadLetterQueue, partition: number, offset: bigint, replayed: Set<bigint>, high: bigint): Promise<string | null> {
    const key = `${queue.name}/${partition}/${offset}`;
    if (this.times.has(key)) return this.times.get(key)!;
    const [record] = await this.reader(queue.name).read(
      { partition, from: offset, until: high, limit: 1, skip: (o) => replayed.has(o) },
      Math.min(this.readTimeoutMs, OLDEST_TIMEOUT_MS),
    );
    const at = record ? deadLetteredAt(record) : null;
    if (this.times.size > 10_000) this.times.clear();
    if (record) this.times.set(`${queue.name}/${partition}/${record.offset}`, at);
    return at;
  }

  /** [low, high) of every partition of `topic`; none when the topic does not exist (nothing was ever dead-lettered). */
  private async partitions(topic: string): Promise<PartitionRange[]> {
    try {
      const admin = await this.admin.get();
      const existing = await admin.listTopics();
      if (!existing.includes(topic)) return [];
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) })).sort((a, b) => a.partition - b.partition);
    } catch (error) {
      void this.admin.drop();
      throw error;
    }
  }

  private reader(topic: string): KafkaTopicReader {
    let reader = this.readers.get(topic);
    if (!reader) {
      reader = new KafkaTopicReader(this.kafka, `${this.options.clientId}-dead-letter-reader`, topic);
      this.readers.set(topic, reader);
    }
    return reader;
  }
}

function firstNotIn(taken: Set<bigint>, from: bigint, until: bigint): bigint | undefined {
  for (let offset = from; offset < until; offset++) if (!taken.has(offset)) return offset;
  return undefined;
}

function deadLetteredAt(message: KafkaMessage): string | null {
  const stamped = isoTime(headerText(message.headers as Record<string, unknown> | undefined, DeadLetterHeaders.At));
  if (stamped) return stamped;
  // Records dead-lettered before the transport stamped the time: the record's own time is when it was written.
  const ms = Number(message.timestamp);
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null;
}

/** The record as it was consumed: its key, value and headers, without what the dead-lettering added. */
function replayRecord(queue: DeadLetterQueue, partition: number, message: KafkaMessage): RawRecord {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined && !DEAD_LETTER_ONLY_HEADERS.includes(name)) headers[name] = value;
  }
  headers[DeadLetterHeaders.ReplayOf] = `${queue.name}/${partition}-${message.offset}`;
  return { key: message.key ?? null, value: message.value ?? null, headers };
}
