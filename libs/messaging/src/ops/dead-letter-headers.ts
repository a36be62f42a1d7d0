import { MessageHeaders } from '@app/contracts';

/**
 * What the transporters write on a dead letter (Kafka headers, AMQP headers), and what the
 * operators' tools read back from it. A replay takes every one of them off again.
 */
export const DeadLetterHeaders = {
  /** Why the message could not be processed (`MESSAGE.INVALID: …`, `MAIL.SMTP_UNAVAILABLE: … (after 5 attempt(s))`). */
  Reason: MessageHeaders.DeadLetterReason,
  /** When it was dead-lettered, ISO-8601 UTC. */
  At: 'x-dead-lettered-at',
  /** RabbitMQ: an id of this dead-lettered copy, unique (a message dead-lettered twice has two). */
  Id: 'x-dead-letter-id',
  /** Kafka: where the record was consumed from. */
  OriginalTopic: 'x-original-topic',
  OriginalPartition: 'x-original-partition',
  OriginalOffset: 'x-original-offset',
  /** RabbitMQ: the queue it was consumed from. */
  OriginalQueue: 'x-original-queue',
  /** Set on a replayed message: `<dead-letter queue>/<id>` it came from. */
  ReplayOf: 'x-replay-of',
} as const;

/** Headers that describe the dead-lettering, not the message: a replay sends the message without them. */
export const DEAD_LETTER_ONLY_HEADERS: readonly string[] = [
  DeadLetterHeaders.Reason,
  DeadLetterHeaders.At,
  DeadLetterHeaders.Id,
  DeadLetterHeaders.OriginalTopic,
  DeadLetterHeaders.OriginalPartition,
  DeadLetterHeaders.OriginalOffset,
  DeadLetterHeaders.OriginalQueue,
  DeadLetterHeaders.ReplayOf,
];

/** A message body as an operator reads it: its JSON, or the text when it is not JSON (null for none). */
export function readablePayload(body: Buffer | null | undefined): unknown {
  if (body === null || body === undefined) return null;
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** One header as text (Kafka and AMQP both may carry Buffers, arrays or numbers). */
export function headerText(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? (raw[0] as unknown) : raw;
  if (value === undefined || value === null) return undefined;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** An ISO-8601 time read from a header, or undefined when it is not one. */
export function isoTime(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
