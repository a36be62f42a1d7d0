import { Inject, Injectable, Logger } from '@nestjs/common';
import { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { decodeMessage, DomainError, MessageHeaders } from '@app/contracts';
import { acceptCorrelationId, deadLetteredMessages, runWithCorrelation } from '@app/observability';
import { RABBITMQ_CONNECTION, RABBITMQ_OPTIONS, RabbitmqOptions } from './rabbitmq.tokens';

export interface MessageMeta {
  messageId: string;
  correlationId: string;
  /** 1 on the first delivery, then one more per retry. */
  attempt: number;
  redelivered: boolean;
  /** The routing key it was published with (kept across retries): tells apart the message types of one queue. */
  routingKey: string;
  headers: Record<string, unknown>;
}

export interface ConsumerSpec<T extends object> {
  queue: string;
  /** Topic-exchange bindings for the queue; exchanges are declared durable. */
  bindings?: { exchange: string; routingKey: string }[];
  contract: new () => T;
  /**
   * Must be idempotent: a message can arrive again after a crash or a retry. Resolving acks the
   * message. Throwing a non-retryable DomainError dead-letters it at once with its reason; any
   * other error retries it after the next delay, and dead-letters it after the last.
   * For an RPC queue the resolved value (or the DomainError) is sent back to the caller.
   */
  handle(message: T, meta: MessageMeta): Promise<unknown>;
  /** Delays before each retry; the message is dead-lettered when they run out. */
  retryDelaysMs?: number[];
  prefetch?: number;
  /** Request/reply: answer every message, never retry (the caller decides). */
  rpc?: boolean;
}

export interface RpcReply {
  ok: boolean;
  result?: unknown;
  error?: { code: string; kind?: string; message: string; details?: unknown[] };
}

export const RPC_REQUEST_ID_HEADER = 'x-request-id';
const ATTEMPT_HEADER = 'x-attempt';

/** Acknowledges a delivery on the channel it came from, or not at all. */
interface Settle {
  ack(): void;
  requeue(): void;
}
const ROUTING_KEY_HEADER = 'x-original-routing-key';
const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 15_000, 30_000];

export function deadLetterQueue(queue: string): string {
  return `${queue}.dlq`;
}

function retryQueue(queue: string, delayMs: number): string {
  return `${queue}.retry.${delayMs}ms`;
}

/**
 * Runs RabbitMQ consumers with the guarantees every queue in the product needs: durable
 * topology, a set prefetch, manual acks after the handler's effect is durable, retries with
 * backoff through per-delay TTL queues, and a dead-letter queue whose messages carry the reason.
 * Consumers come back by themselves after a broker restart (amqp-connection-manager).
 */
@Injectable()
export class RabbitConsumers {
  private readonly logger = new Logger(RabbitConsumers.name);
  private readonly channels: ChannelWrapper[] = [];
  private inFlight = 0;
  private stopping = false;

  constructor(
    @Inject(RABBITMQ_CONNECTION) private readonly connection: AmqpConnectionManager,
    @Inject(RABBITMQ_OPTIONS) private readonly options: RabbitmqOptions,
  ) {}

  register<T extends object>(spec: ConsumerSpec<T>): void {
    const delays = spec.rpc ? [] : (spec.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS);
    // Delivery tags belong to the channel that delivered them: after a reconnect, acking an old
    // delivery on the new channel would close it (406 unknown delivery tag). The broker
    // redelivers whatever was unacknowledged on the old channel, so such a delivery is dropped.
    // Counted in `setup`, which runs on every new channel before its consumers restart (the
    // 'connect' event comes only after they have, so deliveries in between were never acked).
    let generation = 0;
    const channel = this.connection.createChannel({
      name: `consumer:${spec.queue}`,
      confirm: true,
      publishTimeout: 10_000,
      setup: async (ch: Channel) => {
        generation++;
        await ch.assertQueue(spec.queue, { durable: true });
        await ch.assertQueue(deadLetterQueue(spec.queue), { durable: true });
        for (const delay of delays) {
          await ch.assertQueue(retryQueue(spec.queue, delay), {
            durable: true,
            arguments: { 'x-message-ttl': delay, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': spec.queue },
          });
        }
        for (const binding of spec.bindings ?? []) {
          await ch.assertExchange(binding.exchange, 'topic', { durable: true });
          await ch.bindQueue(spec.queue, binding.exchange, binding.routingKey);
        }
      },
    });
    this.channels.push(channel);
    const settlerFor = (message: ConsumeMessage): Settle => {
      const deliveredOn = generation;
      const current = () => {
        if (deliveredOn === generation) return true;
        this.logger.warn({ msg: `a delivery from ${spec.queue} outlived its channel; the broker redelivers it` });
        return false;
      };
      // A channel that closed under the delivery throws here; the broker redelivers it anyway.
      const safely = (settle: () => void) => {
        try {
          if (current()) settle();
        } catch (error) {
          this.logger.warn({ msg: `cannot settle a delivery from ${spec.queue}`, err: (error as Error).message });
        }
      };
      return {
        ack: () => safely(() => channel.ack(message)),
        requeue: () => safely(() => channel.nack(message, false, true)),
      };
    };
    // Not awaited: with the broker down the app still starts (and says so in readiness);
    // the consumer begins, and resumes after every reconnect, by itself.
    channel
      .consume(spec.queue, (message) => void this.onMessage(channel, spec, delays, message, settlerFor(message)), {
        prefetch: spec.prefetch ?? this.options.prefetch,
        noAck: false,
      })
      .then(() => this.logger.log(`consuming ${spec.queue}`))
      .catch((error: Error) => this.logger.error({ msg: `cannot consume ${spec.queue}`, err: error.message }));
  }

  private async onMessage<T extends object>(
    channel: ChannelWrapper,
    spec: ConsumerSpec<T>,
    delays: number[],
    message: ConsumeMessage,
    settle: Settle,
  ): Promise<void> {
    if (this.stopping) return void settle.requeue();
    this.inFlight++;
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const meta: MessageMeta = {
      messageId: String(message.properties.messageId ?? randomUUID()),
      correlationId: acceptCorrelationId(message.properties.correlationId),
      attempt: Number(headers[ATTEMPT_HEADER] ?? 1),
      redelivered: message.fields.redelivered,
      routingKey: String(headers[ROUTING_KEY_HEADER] ?? message.fields.routingKey),
      headers,
    };
    try {
      await runWithCorrelation({ correlationId: meta.correlationId, messageId: meta.messageId }, () =>
        this.process(channel, spec, delays, message, meta, settle),
      );
    } catch (error) {
      // Only reached when even the retry or dead-letter publish failed: let the broker redeliver.
      this.logger.error({ msg: `could not settle a message from ${spec.queue}`, err: (error as Error).message });
      settle.requeue();
    } finally {
      this.inFlight--;
    }
  }

  private async process<T extends object>(
    channel: ChannelWrapper,
    spec: ConsumerSpec<T>,
    delays: number[],
    message: ConsumeMessage,
    meta: MessageMeta,
    settle: Settle,
  ): Promise<void> {
    const decoded = decodeMessage(spec.contract, message.content);
    if (!decoded.ok) {
      if (spec.rpc) {
        // The caller may pass this on to its own client: say what is wrong, not which class said so.
        const problem = `The request is invalid: ${decoded.problems ?? 'it could not be read'}.`;
        this.logger.warn({ msg: `invalid request on ${spec.queue}`, reason: decoded.reason });
        await this.reply(channel, message, meta, { ok: false, error: { code: 'MESSAGE.INVALID', kind: 'invalid', message: problem } });
      } else {
        await this.deadLetter(channel, spec.queue, message, meta, decoded.reason);
      }
      return void settle.ack();
    }
    try {
      const result = await spec.handle(decoded.value, meta);
      if (spec.rpc) await this.reply(channel, message, meta, { ok: true, result });
      settle.ack();
    } catch (error) {
      if (spec.rpc) {
        await this.reply(channel, message, meta, { ok: false, error: describeError(error) });
        this.logFailure(spec.queue, meta, error);
        return void settle.ack();
      }
      const permanent = error instanceof DomainError && !error.retryable;
      const delay = delays[meta.attempt - 1];
      if (permanent || delay === undefined) {
        const reason = error instanceof DomainError ? `${error.code}: ${error.message}` : (error as Error).message;
        await this.deadLetter(channel, spec.queue, message, meta, `${reason} (after ${meta.attempt} attempt(s))`);
      } else {
        this.logger.warn({ msg: `retrying in ${delay} ms`, queue: spec.queue, attempt: meta.attempt, err: (error as Error).message });
        await channel.sendToQueue(retryQueue(spec.queue, delay), message.content, {
          ...message.properties,
          persistent: true,
          headers: { ...meta.headers, [ATTEMPT_HEADER]: meta.attempt + 1, [ROUTING_KEY_HEADER]: meta.routingKey },
        });
      }
      settle.ack();
    }
  }

  private async deadLetter(channel: ChannelWrapper, queue: string, message: ConsumeMessage, meta: MessageMeta, reason: string) {
    this.logger.error({ msg: 'message dead-lettered', queue, reason, attempt: meta.attempt });
    deadLetteredMessages.inc({ source: queue, reason: reason.split(':')[0].slice(0, 60) });
    await channel.sendToQueue(deadLetterQueue(queue), message.content, {
      ...message.properties,
      persistent: true,
      headers: {
        ...meta.headers,
        [MessageHeaders.DeadLetterReason]: reason,
        'x-original-queue': queue,
        'x-dead-lettered-at': new Date().toISOString(),
      },
    });
  }

  private async reply(channel: ChannelWrapper, message: ConsumeMessage, meta: MessageMeta, reply: RpcReply) {
    const replyTo = message.properties.replyTo as string | undefined;
    if (!replyTo) return;
    await channel.sendToQueue(replyTo, Buffer.from(JSON.stringify(reply)), {
      contentType: 'application/json',
      correlationId: meta.correlationId,
      headers: { [RPC_REQUEST_ID_HEADER]: meta.messageId },
    });
  }

  private logFailure(queue: string, meta: MessageMeta, error: unknown): void {
    if (error instanceof DomainError) return;
    this.logger.error({ msg: `request on ${queue} failed`, messageId: meta.messageId, err: (error as Error).message });
  }

  /** Stops taking deliveries, then waits (bounded) for the handlers under way to finish and ack. */
  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.channels.map((c) => c.cancelAll().catch(() => undefined)));
    const deadline = Date.now() + 10_000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await Promise.all(this.channels.map((c) => c.close().catch(() => undefined)));
  }
}

function describeError(error: unknown): NonNullable<RpcReply['error']> {
  if (error instanceof DomainError) {
    return { code: error.code, kind: error.kind, message: error.message, details: error.details };
  }
  return { code: 'INTERNAL', message: 'the service failed to handle the request' };
}
