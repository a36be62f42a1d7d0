import { Inject, Injectable, Logger } from '@nestjs/common';
import { BaseRpcContext, CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { Counter, Histogram } from 'prom-client';
import { lastValueFrom } from 'rxjs';
import { decodeMessage, DomainError, MessageContract, MessageHeaders, MessagingErrorCodes, QueueContract, RpcContract } from '@app/contracts';
import type { Context, Span } from '@opentelemetry/api';
import {
  acceptCorrelationId,
  annotateActiveSpan,
  deadLetteredMessages,
  endEntrySpan,
  extractTraceContext,
  failSpan,
  metricsRegistry,
  runInContext,
  runWithCorrelation,
  SpanKind,
  startEntrySpan,
  tracingOn,
} from '@app/observability';
import { RABBITMQ_CONNECTION, RABBITMQ_OPTIONS, RabbitmqOptions } from './rabbitmq.tokens';
import { DeadLetterHeaders } from '../ops/dead-letter-headers';

/** Transport id of {@link RabbitServer}: handlers declared with `RabbitRpc`/`RabbitEvent` go to it alone. */
export const RABBITMQ_TRANSPORT = Symbol('rabbitmq');

/** What the handler decorators put in the pattern's extras. */
export interface RabbitHandlerExtras {
  rabbit: MessageContract | RpcContract;
}

export interface MessageMeta {
  messageId: string;
  correlationId: string;
  /** 1 on the first delivery, then one more per retry. */
  attempt: number;
  redelivered: boolean;
  /** The routing key it was published with (kept across retries): tells apart the message types of one queue. */
  routingKey: string;
  /** The queue it came from (a broadcast queue's contract name, not its server-given one). */
  queue: string;
  headers: Record<string, unknown>;
}

/** `@Ctx()` of a RabbitMQ handler. */
export class RabbitContext extends BaseRpcContext<[MessageMeta]> {
  get meta(): MessageMeta {
    return this.args[0];
  }
}

export interface RpcReply {
  ok: boolean;
  result?: unknown;
  error?: { code: string; kind?: string; message: string; details?: unknown[] };
}

export const RPC_REQUEST_ID_HEADER = 'x-request-id';
const ATTEMPT_HEADER = 'x-attempt';
const ROUTING_KEY_HEADER = 'x-original-routing-key';

export function deadLetterQueue(queue: string): string {
  return `${queue}.dlq`;
}

function retryQueue(queue: string, delayMs: number): string {
  return `${queue}.retry.${delayMs}ms`;
}

const messages = new Counter({
  name: 'rabbitmq_messages_total',
  help: 'Messages taken from RabbitMQ, by queue, pattern and outcome (handled, failed = an RPC answered with an error, retried, dead_lettered)',
  labelNames: ['queue', 'pattern', 'outcome'] as const,
  registers: [metricsRegistry],
});
const handlerDuration = new Histogram({
  name: 'rabbitmq_handler_duration_seconds',
  help: 'Time a handler took, by pattern',
  labelNames: ['pattern'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

type Events = {
  /** A broadcast queue is (again) bound and consumed: notices sent while it was not were missed. */
  subscribed: (queue: string) => void;
  'dead-lettered': (queue: string, reason: string) => void;
};

/** One consumer: a queue and the handlers of the messages on it, by routing key. */
interface Consumer {
  queue: QueueContract;
  handlers: Map<string, { contract: MessageContract | RpcContract; handler: MessageHandler }>;
  wrapper?: ChannelWrapper;
  /** The channel consuming now and its consumer tag; undefined while not consuming. */
  current?: { channel: Channel; tag: string };
}

/**
 * A Nest transport strategy over RabbitMQ, with the guarantees every queue in the product needs:
 * - the topology of each handler's contract is declared where it is consumed (durable queues,
 *   bindings, a retry ladder of per-delay TTL queues and a dead-letter queue), from libs/contracts;
 * - one consumer per queue, with a set prefetch and manual acks once the handler resolved;
 *   the messages sharing a queue are told apart by routing key, each with its own handler;
 * - `RabbitRpc` handlers answer over direct reply-to, with the DomainError they threw;
 * - `RabbitEvent` handlers on a work queue retry on any error but a non-retryable DomainError,
 *   and are dead-lettered with the reason when the ladder runs out (invalid messages at once);
 * - broadcast queues are one per instance (server-named, exclusive), so every instance hears every notice.
 * Consumers come back by themselves after a broker restart (amqp-connection-manager).
 */
@Injectable()
export class RabbitServer extends Server<Events> implements CustomTransportStrategy {
  override readonly transportId = RABBITMQ_TRANSPORT;
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(RabbitServer.name);
  private readonly consumers = new Map<string, Consumer>();
  private readonly listeners: { [K in keyof Events]: Events[K][] } = { subscribed: [], 'dead-lettered': [] };
  private inFlight = 0;
  private stopping = false;
  private closing?: Promise<void>;

  constructor(
    @Inject(RABBITMQ_CONNECTION) private readonly connection: AmqpConnectionManager,
    @Inject(RABBITMQ_OPTIONS) private readonly options: RabbitmqOptions,
  ) {
    super();
  }

  on<K extends keyof Events = keyof Events, C extends Events[K] = Events[K]>(event: K, callback: C): void {
    this.listeners[event].push(callback);
  }

  unwrap<T>(): T {
    return this.connection as T;
  }

  /** Starts every consumer and calls back at once: with the broker down the app still starts (and says so in readiness). */
  listen(callback: (...optionalParams: unknown[]) => void): void {
    for (const [pattern, handler] of this.getHandlers()) {
      const contract = (handler.extras as Partial<RabbitHandlerExtras> | undefined)?.rabbit;
      if (!contract) throw new Error(`handler of "${pattern}" is not declared with RabbitRpc or RabbitEvent`);
      const name = contract.queue.name;
      const consumer = this.consumers.get(name) ?? { queue: contract.queue, handlers: new Map() };
      consumer.handlers.set(contract.pattern, { contract, handler });
      this.consumers.set(name, consumer);
    }
    this.stopping = false;
    for (const consumer of this.consumers.values()) this.start(consumer);
    callback();
  }

  /** For readiness: the queues that are not being consumed right now. */
  notConsuming(): string[] {
    return [...this.consumers.values()].filter((c) => !c.current).map((c) => c.queue.name);
  }

  private retryDelays(queue: QueueContract): readonly number[] {
    if (queue.kind !== 'work') return [];
    return this.options.retryDelaysMs?.[queue.name] ?? queue.retryDelaysMs;
  }

  private start(consumer: Consumer): void {
    const { queue } = consumer;
    const delays = this.retryDelays(queue);
    consumer.wrapper = this.connection.createChannel({
      name: `consumer:${queue.name}`,
      confirm: true,
      publishTimeout: 10_000,
      // Runs on every new channel: declares, then consumes on that channel, so each delivery is
      // settled on the channel that delivered it (acking it on a later one would close that one).
      setup: async (channel: Channel) => {
        consumer.current = undefined;
        const name = await this.declare(channel, consumer, delays);
        await channel.prefetch(queue.prefetch ?? this.options.prefetch);
        const { consumerTag } = await channel.consume(name, (message) => message && void this.onMessage(consumer, delays, channel, message), {
          noAck: false,
          exclusive: queue.kind === 'broadcast',
        });
        consumer.current = { channel, tag: consumerTag };
        channel.once('close', () => {
          if (consumer.current?.channel === channel) consumer.current = undefined;
        });
        this.logger.log(`consuming ${queue.name}`);
        if (queue.kind === 'broadcast') for (const listener of this.listeners.subscribed) listener(queue.name);
      },
    });
  }

  /** Declares the queue, its ladder and dead-letter queue, and its bindings; returns the name to consume. */
  private async declare(channel: Channel, consumer: Consumer, delays: readonly number[]): Promise<string> {
    const { queue } = consumer;
    const name =
      queue.kind === 'broadcast'
        ? (await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false })).queue
        : (await channel.assertQueue(queue.name, { durable: true })).queue;
    if (queue.kind !== 'rpc') await channel.assertQueue(deadLetterQueue(queue.name), { durable: true });
    for (const delay of delays) {
      await channel.assertQueue(retryQueue(queue.name, delay), {
        durable: true,
        arguments: { 'x-message-ttl': delay, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue.name },
      });
    }
    for (const { contract } of consumer.handlers.values()) {
      const exchange = 'exchange' in contract ? contract.exchange : '';
      if (exchange === '') continue;
      await channel.assertExchange(exchange, 'topic', { durable: true });
      await channel.bindQueue(name, exchange, contract.pattern);
    }
    return name;
  }

  private async onMessage(consumer: Consumer, delays: readonly number[], channel: Channel, message: ConsumeMessage): Promise<void> {
    // A channel that closed under the delivery throws here; the broker redelivers it anyway.
    const settle = (how: 'ack' | 'requeue') => {
      try {
        if (how === 'ack') channel.ack(message);
        else channel.nack(message, false, true);
      } catch (error) {
        this.logger.warn({ msg: `cannot settle a delivery from ${consumer.queue.name}`, err: (error as Error).message });
      }
    };
    if (this.stopping) return settle('requeue');
    this.inFlight++;
    let traced: { span: Span; context: Context } | undefined;
    try {
      const meta = metaOf(consumer.queue.name, message);
      const correlation = { correlationId: meta.correlationId, messageId: meta.messageId };
      traced = tracingOn() ? deliverySpan(consumer.queue, meta) : undefined;
      await (traced
        ? runInContext(traced.context, () => runWithCorrelation(correlation, () => this.process(consumer, delays, message, meta)))
        : runWithCorrelation(correlation, () => this.process(consumer, delays, message, meta)));
      settle('ack');
    } catch (error) {
      if (traced) failSpan(traced.span, error);
      // Only reached when even the reply, retry or dead-letter publish failed: let the broker redeliver.
      this.logger.error({ msg: `could not settle a message from ${consumer.queue.name}`, err: (error as Error).message });
      settle('requeue');
    } finally {
      if (traced) endEntrySpan(traced.span, traced.context);
      this.inFlight--;
    }
  }

  private async process(consumer: Consumer, delays: readonly number[], message: ConsumeMessage, meta: MessageMeta): Promise<void> {
    const { queue } = consumer;
    const rpc = queue.kind === 'rpc';
    // An RPC queue has one operation; any other queue dispatches by routing key.
    const entry = rpc ? consumer.handlers.values().next().value : consumer.handlers.get(meta.routingKey);
    if (!entry) {
      return this.deadLetter(consumer, message, meta, `${MessagingErrorCodes.UnknownType}: no handler for routing key "${meta.routingKey}" on ${queue.name}`);
    }
    const { contract, handler } = entry;
    const decoded = decodeMessage('Request' in contract ? contract.Request : contract.Message, message.content);
    if (!decoded.ok) {
      if (!rpc) return this.deadLetter(consumer, message, meta, decoded.reason);
      // The caller may pass this on to its own client: say what is wrong, not which class said so.
      this.logger.warn({ msg: `invalid request on ${queue.name}`, reason: decoded.reason });
      messages.inc({ queue: queue.name, pattern: contract.pattern, outcome: 'failed' });
      const problem = `The request is invalid: ${decoded.problems ?? 'it could not be read'}.`;
      return this.reply(consumer, message, meta, { ok: false, error: { code: MessagingErrorCodes.Invalid, kind: 'invalid', message: problem } });
    }
    const timer = handlerDuration.startTimer({ pattern: contract.pattern });
    let result: unknown;
    try {
      result = await lastValueFrom(this.transformToObservable(await handler(decoded.value, new RabbitContext([meta]))), { defaultValue: undefined });
    } catch (error) {
      timer();
      if (rpc) {
        if (!(error instanceof DomainError))
          this.logger.error({ msg: `request on ${queue.name} failed`, messageId: meta.messageId, err: (error as Error).message });
        messages.inc({ queue: queue.name, pattern: contract.pattern, outcome: 'failed' });
        // The caller's mistake (not found, invalid, ...) is an answer; a failure of this service marks the span failed.
        if (tracingOn()) {
          annotateActiveSpan(
            { 'retail.outcome': 'failed', 'error.type': error instanceof DomainError ? error.code : MessagingErrorCodes.Internal },
            error instanceof DomainError && !error.retryable ? undefined : error,
          );
        }
        return this.reply(consumer, message, meta, { ok: false, error: describeError(error) });
      }
      return this.retryOrDeadLetter(consumer, delays, message, meta, error);
    }
    timer();
    messages.inc({ queue: queue.name, pattern: contract.pattern, outcome: 'handled' });
    if (rpc) await this.reply(consumer, message, meta, { ok: true, result });
  }

  private async retryOrDeadLetter(consumer: Consumer, delays: readonly number[], message: ConsumeMessage, meta: MessageMeta, error: unknown) {
    const permanent = error instanceof DomainError && !error.retryable;
    const delay = delays[meta.attempt - 1];
    if (permanent || delay === undefined) {
      const reason = error instanceof DomainError ? `${error.code}: ${error.message}` : (error as Error).message;
      return this.deadLetter(consumer, message, meta, `${reason} (after ${meta.attempt} attempt(s))`);
    }
    const queue = consumer.queue.name;
    this.logger.warn({ msg: `retrying in ${delay} ms`, queue, attempt: meta.attempt, err: (error as Error).message });
    messages.inc({ queue, pattern: meta.routingKey, outcome: 'retried' });
    if (tracingOn()) annotateActiveSpan({ 'retail.outcome': 'retried', 'retail.retry.delay_ms': delay }, error);
    await consumer.wrapper!.sendToQueue(retryQueue(queue, delay), message.content, {
      ...message.properties,
      persistent: true,
      headers: { ...meta.headers, [ATTEMPT_HEADER]: meta.attempt + 1, [ROUTING_KEY_HEADER]: meta.routingKey },
    });
  }

  private async deadLetter(consumer: Consumer, message: ConsumeMessage, meta: MessageMeta, reason: string): Promise<void> {
    const queue = consumer.queue.name;
    this.logger.error({ msg: 'message dead-lettered', queue, reason, attempt: meta.attempt });
    if (tracingOn()) annotateActiveSpan({ 'retail.outcome': 'dead_lettered' }, new Error(reason));
    await consumer.wrapper!.sendToQueue(deadLetterQueue(queue), message.content, {
      ...message.properties,
      persistent: true,
      headers: {
        ...meta.headers,
        [MessageHeaders.DeadLetterReason]: reason,
        [ROUTING_KEY_HEADER]: meta.routingKey,
        'x-original-queue': queue,
        'x-dead-lettered-at': new Date().toISOString(),
        // ops: an id of this dead-lettered copy, by which it is inspected and replayed.
        [DeadLetterHeaders.Id]: randomUUID(),
      },
    });
    messages.inc({ queue, pattern: meta.routingKey, outcome: 'dead_lettered' });
    deadLetteredMessages.inc({ source: queue, reason: reason.split(':')[0].slice(0, 60) });
    for (const listener of this.listeners['dead-lettered']) listener(queue, reason);
  }

  private async reply(consumer: Consumer, message: ConsumeMessage, meta: MessageMeta, reply: RpcReply): Promise<void> {
    const replyTo = message.properties.replyTo as string | undefined;
    if (!replyTo) return;
    await consumer.wrapper!.sendToQueue(replyTo, Buffer.from(JSON.stringify(reply)), {
      contentType: 'application/json',
      correlationId: meta.correlationId,
      headers: { [RPC_REQUEST_ID_HEADER]: meta.messageId },
    });
  }

  /** Stops taking deliveries, then waits (bounded) for the handlers under way to finish and ack. Once. */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.consumers.values()].map(async (c) => {
        const current = c.current;
        c.current = undefined;
        await current?.channel.cancel(current.tag).catch(() => undefined);
      }),
    );
    const deadline = Date.now() + 10_000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([...this.consumers.values()].map((c) => c.wrapper?.close().catch(() => undefined)));
  }
}

/**
 * The span of one delivery, child of the producer's context carried in its headers (kept across
 * retries, so a retried message stays in its trace): a server span for an RPC request, a
 * consumer span for any other message. Tracing on only.
 */
function deliverySpan(queue: QueueContract, meta: MessageMeta): { span: Span; context: Context } {
  const rpc = queue.kind === 'rpc';
  return startEntrySpan(
    {
      name: rpc ? `rpc ${meta.routingKey}` : `process ${meta.routingKey}`,
      kind: rpc ? SpanKind.SERVER : SpanKind.CONSUMER,
      correlationId: meta.correlationId,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'process',
        'messaging.destination.name': queue.name,
        'messaging.rabbitmq.destination.routing_key': meta.routingKey,
        'messaging.message.id': meta.messageId,
        'retail.delivery.attempt': meta.attempt,
        ...(rpc ? { 'rpc.system': 'rabbitmq', 'rpc.method': meta.routingKey } : {}),
      },
    },
    extractTraceContext(meta.headers),
  );
}

/** What a handler learns of a delivery; headers come from anyone who could publish, so each is checked. */
function metaOf(queue: string, message: ConsumeMessage): MessageMeta {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
  const attempt = Number(headers[ATTEMPT_HEADER]);
  const routingKey = headers[ROUTING_KEY_HEADER];
  const messageId = message.properties.messageId as unknown;
  return {
    messageId: typeof messageId === 'string' && messageId !== '' ? messageId : randomUUID(),
    correlationId: acceptCorrelationId(message.properties.correlationId),
    attempt: Number.isSafeInteger(attempt) && attempt >= 1 ? attempt : 1,
    redelivered: message.fields.redelivered,
    routingKey: typeof routingKey === 'string' ? routingKey : message.fields.routingKey,
    queue,
    headers,
  };
}

function describeError(error: unknown): NonNullable<RpcReply['error']> {
  if (error instanceof DomainError) {
    return { code: error.code, kind: error.kind, message: error.message, details: error.details };
  }
  return { code: MessagingErrorCodes.Internal, message: 'the service failed to handle the request' };
}
