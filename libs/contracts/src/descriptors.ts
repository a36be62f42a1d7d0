import type { Decoded } from './validate-message';

/** A class-validator class: what a message must look like, checked when sent and when received. */
export type Contract<T> = new () => T;

/**
 * A Kafka topic and the records on it. The consumer's transport creates the topic and its
 * dead-letter topic (when missing) with this layout; a record that fails `Message` goes to
 * `deadLetterTopic` with the reason in a header.
 */
export interface TopicContract<T extends object = object> {
  readonly transport: 'kafka';
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly partitions: number;
  readonly Message: Contract<T>;
  /**
   * A hand-written check of the same rules as `Message`, for a topic with a high rate
   * (class-validator costs ~20 µs a record).
   */
  readonly decode?: (value: Buffer | null) => Decoded<T>;
}

/**
 * A RabbitMQ queue. `work` queues are durable and shared by every instance (competing
 * consumers) with a retry ladder and a dead-letter queue; `rpc` queues answer every request and
 * never retry (the caller decides); `broadcast` queues are one per instance (server-named,
 * exclusive), so every instance hears every message; `name` then names its dead-letter queue.
 */
export interface QueueContract {
  readonly name: string;
  readonly kind: 'work' | 'rpc' | 'broadcast';
  /** Delays before each retry of a `work` queue; the message is dead-lettered when they run out. */
  readonly retryDelaysMs: readonly number[];
  /** Unacknowledged deliveries at a time, when it differs from the app's RABBITMQ_PREFETCH. */
  readonly prefetch?: number;
}

/**
 * A command or an event over RabbitMQ: published on `exchange` with routing key `pattern`, and
 * consumed from `queue`. Several messages may share a queue; each has its own handler.
 * `exchange` '' is the default exchange, where the routing key is the queue's name.
 */
export interface MessageContract<T extends object = object> {
  readonly transport: 'rabbitmq';
  readonly pattern: string;
  readonly exchange: string;
  readonly queue: QueueContract;
  readonly Message: Contract<T>;
}

/** Request/reply over RabbitMQ (direct reply-to): the request on queue `pattern`, the reply checked against `Reply`. */
export interface RpcContract<Req extends object = object, Rep extends object = object> {
  readonly transport: 'rabbitmq';
  readonly pattern: string;
  readonly queue: QueueContract;
  readonly Request: Contract<Req>;
  readonly Reply: Contract<Rep>;
}

export type RequestOf<D> = D extends RpcContract<infer Req, object> ? Req : never;
export type ReplyOf<D> = D extends RpcContract<object, infer Rep> ? Rep : never;

/** The retry ladder of a work queue unless it says otherwise. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 15_000, 30_000];

export function topic<T extends object>(
  name: string,
  Message: Contract<T>,
  layout: { partitions: number; decode?: (value: Buffer | null) => Decoded<T> },
): TopicContract<T> {
  return { transport: 'kafka', topic: name, deadLetterTopic: `${name}.dlq`, partitions: layout.partitions, Message, decode: layout.decode };
}

export function workQueue(name: string, options: { retryDelaysMs?: readonly number[]; prefetch?: number } = {}): QueueContract {
  return { name, kind: 'work', retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS, prefetch: options.prefetch };
}

export function broadcastQueue(name: string): QueueContract {
  return { name, kind: 'broadcast', retryDelaysMs: [] };
}

export function message<T extends object>(pattern: string, Message: Contract<T>, route: { exchange: string; queue: QueueContract }): MessageContract<T> {
  if (route.exchange === '' && pattern !== route.queue.name) throw new Error(`${pattern}: on the default exchange the routing key is the queue's name`);
  return { transport: 'rabbitmq', pattern, exchange: route.exchange, queue: route.queue, Message };
}

export function rpc<Req extends object, Rep extends object>(
  queue: string,
  Request: Contract<Req>,
  Reply: Contract<Rep>,
  options: { prefetch?: number } = {},
): RpcContract<Req, Rep> {
  return { transport: 'rabbitmq', pattern: queue, queue: { name: queue, kind: 'rpc', retryDelaysMs: [], prefetch: options.prefetch }, Request, Reply };
}
