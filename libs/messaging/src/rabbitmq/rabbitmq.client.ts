import { Inject, Injectable, Logger } from '@nestjs/common';
import { ClientProxy, ReadPacket, WritePacket } from '@nestjs/microservices';
import { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { Histogram } from 'prom-client';
import { from, Observable } from 'rxjs';
import { checkContract, DomainError, DomainErrorKind, MessageContract, MessageHeaders, MessagingErrorCodes, RpcContract } from '@app/contracts';
import {
  acceptCorrelationId,
  correlationId as currentCorrelationId,
  failSpan,
  injectTraceContext,
  metricsRegistry,
  SpanKind,
  startClientSpan,
  traceHeaders,
  tracingOn,
} from '@app/observability';
import { RPC_REQUEST_ID_HEADER, RpcReply } from './rabbitmq.server';
import { RABBITMQ_CONNECTION, RABBITMQ_OPTIONS, RabbitmqOptions } from './rabbitmq.tokens';

const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

const rpcDuration = new Histogram({
  name: 'rabbitmq_rpc_duration_seconds',
  help: 'Time from sending a request over RabbitMQ to its settling, by RPC pattern and outcome (ok; error: the service answered with an error, could not be reached, or the request was invalid; timeout: no answer in time)',
  labelNames: ['pattern', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

/** A payload with the AMQP properties of its message (Nest's record idiom, as `RmqRecord`). */
export class RabbitRecord<T> {
  constructor(
    readonly data: T,
    readonly options: {
      /** Says what the message is about, so a consumer can recognise a repeat. */
      messageId?: string;
      correlationId?: string;
      /** RPC only: how long to wait for the answer. */
      timeoutMs?: number;
    } = {},
  ) {}
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  contract: RpcContract;
}

/**
 * Nest's ClientProxy over RabbitMQ, through the contracts of libs/contracts:
 * - `send(rpc, request)` checks the request before it leaves and the reply when it arrives,
 *   over direct reply-to (no reply queue to declare or clean up). A DomainError thrown by the
 *   remote handler is rethrown here with the same code and kind, so the HTTP edge maps it like a
 *   local one; no answer in time is a 503-kind DomainError. Settled exactly once, never unhandled.
 * - `emit(message, event)` checks the event, declares the destination queue and binding of its
 *   contract (so a message sent before its consumer first started waits for it), and completes
 *   once the broker confirmed it (persistent, on a confirm channel).
 */
@Injectable()
export class RabbitClient extends ClientProxy {
  private readonly logger = new Logger(RabbitClient.name);
  private readonly pending = new Map<string, Pending>();
  private readonly publisher: ChannelWrapper;
  private readonly replies: ChannelWrapper;
  private readonly declared = new Map<string, Promise<void>>();

  private readonly timeoutMs: number;

  constructor(
    @Inject(RABBITMQ_CONNECTION) private readonly connection: AmqpConnectionManager,
    @Inject(RABBITMQ_OPTIONS) options: RabbitmqOptions,
  ) {
    super();
    this.timeoutMs = options.rpcTimeoutMs ?? 5_000;
    this.publisher = connection.createChannel({ name: 'publisher', publishTimeout: 10_000, confirm: true });
    this.replies = connection.createChannel({
      name: 'rpc-client',
      confirm: false,
      setup: async (ch: Channel) => {
        await ch.consume(DIRECT_REPLY_TO, (message) => message && this.onReply(message), { noAck: true });
      },
    });
  }

  async connect(): Promise<void> {
    // amqp-connection-manager connects, and reconnects, by itself.
  }

  unwrap<T>(): T {
    return this.connection as T;
  }

  override send<Req extends object, Rep extends object>(contract: RpcContract<Req, Rep>, data: Req | RabbitRecord<Req>): Observable<Rep>;
  /** @deprecated Nest's untyped form: refused at run time; pass an RpcContract. */
  override send<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult>;
  override send(contract: unknown, data: object): Observable<unknown> {
    if (!isContract(contract)) return from(Promise.reject(new Error('RabbitClient sends requests through an RpcContract: send(contract, request)')));
    return from(this.request(contract as RpcContract, data));
  }

  override emit<T extends object>(contract: MessageContract<T>, data: T | RabbitRecord<T>): Observable<void>;
  /** @deprecated Nest's untyped form: refused at run time; pass a MessageContract. */
  override emit<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult>;
  override emit(contract: unknown, data: object): Observable<unknown> {
    // Sent now, as Nest's emit does, whether or not anyone subscribes; a failure nobody waits for is not unhandled.
    const sent = isContract(contract)
      ? this.dispatch(contract as MessageContract, data)
      : Promise.reject(new Error('RabbitClient emits through a MessageContract: emit(contract, event)'));
    sent.catch(() => undefined);
    return from(sent);
  }

  /** `send` as a promise. Timed in `rabbitmq_rpc_duration_seconds`; a client span when tracing is on. */
  request<Req extends object, Rep extends object>(contract: RpcContract<Req, Rep>, data: Req | RabbitRecord<Req>): Promise<Rep> {
    const started = performance.now();
    const { payload, options } = unwrapRecord(data);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const service = contract.pattern.split('.')[0];
    const checked = checkContract(contract.Request, payload);
    if (!checked.ok) {
      rpcDuration.observe({ pattern: contract.pattern, outcome: 'error' }, (performance.now() - started) / 1000);
      return Promise.reject(new DomainError(MessagingErrorCodes.Invalid, 'invalid', `The request is invalid: ${checked.problems}.`));
    }
    const messageId = options.messageId ?? randomUUID();
    const correlationId = correlation(options.correlationId);
    const span = tracingOn()
      ? startClientSpan({
          name: `rpc ${contract.pattern}`,
          kind: SpanKind.CLIENT,
          correlationId,
          attributes: { 'rpc.system': 'rabbitmq', 'rpc.method': contract.pattern, 'messaging.system': 'rabbitmq', 'messaging.message.id': messageId },
        })
      : undefined;
    const headers = span ? traceHeaders(span) : undefined;
    let timedOut = false;
    const reply = new Promise<Rep>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(messageId);
        timedOut = true;
        reject(new DomainError(MessagingErrorCodes.RpcTimeout, 'unavailable', `The ${service} service did not answer in time; try again.`));
      }, timeoutMs);
      this.pending.set(messageId, { resolve: resolve as (value: unknown) => void, reject, timer, contract });
      this.replies
        .sendToQueue(contract.pattern, Buffer.from(JSON.stringify(payload)), {
          messageId,
          correlationId,
          headers,
          replyTo: DIRECT_REPLY_TO,
          contentType: 'application/json',
          // A request nobody waits for any more is not worth handling.
          expiration: timeoutMs,
          // While the broker is unreachable the request waits in the channel's queue, at most this long.
          timeout: timeoutMs,
        })
        .catch((error: Error) => {
          this.logger.warn({ msg: `RPC request to ${contract.pattern} not sent`, err: error.message });
          this.settle(messageId)?.reject(
            new DomainError(MessagingErrorCodes.RpcUnavailable, 'unavailable', `The ${service} service cannot be reached right now; try again.`),
          );
        });
    });
    return reply.then(
      (value) => {
        rpcDuration.observe({ pattern: contract.pattern, outcome: 'ok' }, (performance.now() - started) / 1000);
        span?.end();
        return value;
      },
      (error: unknown) => {
        rpcDuration.observe({ pattern: contract.pattern, outcome: timedOut ? 'timeout' : 'error' }, (performance.now() - started) / 1000);
        if (span) {
          failSpan(span, error);
          span.end();
        }
        throw error;
      },
    );
  }

  /** `emit` as a promise: resolves once the broker has taken responsibility for the message. */
  async dispatch<T extends object>(contract: MessageContract<T>, data: T | RabbitRecord<T>): Promise<void> {
    const { payload, options } = unwrapRecord(data);
    const checked = checkContract(contract.Message, payload);
    if (!checked.ok) throw new Error(`refusing to send an invalid ${contract.pattern}: ${checked.problems}`);
    const messageId = options.messageId ?? randomUUID();
    // AMQP short strings hold 255 bytes; a longer one would fail inside the channel, unsettled.
    if (Buffer.byteLength(messageId) > 255) throw new Error(`message id longer than 255 bytes: ${messageId.slice(0, 64)}…`);
    const correlationId = correlation(options.correlationId);
    const headers: Record<string, unknown> = { [MessageHeaders.SchemaVersion]: 1 };
    const span = tracingOn() ? this.startPublishSpan(contract, messageId, correlationId) : undefined;
    if (span) injectTraceContext(headers, span);
    try {
      await this.declareDestination(contract);
      await this.publisher.publish(contract.exchange, contract.pattern, Buffer.from(JSON.stringify(payload)), {
        persistent: true,
        contentType: 'application/json',
        messageId,
        correlationId,
        headers,
      });
    } catch (error) {
      if (span) failSpan(span, error);
      throw error;
    } finally {
      span?.end();
    }
  }

  /** A producer span for one message, ended once the broker confirmed it; its context travels in the headers. */
  private startPublishSpan(contract: MessageContract, messageId: string, correlationId: string) {
    return startClientSpan({
      name: `publish ${contract.pattern}`,
      kind: SpanKind.PRODUCER,
      correlationId,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'send',
        'messaging.destination.name': contract.exchange === '' ? contract.queue.name : contract.exchange,
        'messaging.rabbitmq.destination.routing_key': contract.pattern,
        'messaging.message.id': messageId,
      },
    });
  }

  /**
   * The exchange, and for a work queue the queue and its binding, as its consumer declares them;
   * kept as a channel setup, so it is declared again after a reconnect.
   */
  private declareDestination(contract: MessageContract): Promise<void> {
    const key = `${contract.exchange}|${contract.pattern}`;
    let declared = this.declared.get(key);
    if (!declared) {
      declared = this.publisher.addSetup(async (channel: Channel) => {
        if (contract.exchange !== '') await channel.assertExchange(contract.exchange, 'topic', { durable: true });
        if (contract.queue.kind !== 'work') return;
        await channel.assertQueue(contract.queue.name, { durable: true });
        if (contract.exchange !== '') await channel.bindQueue(contract.queue.name, contract.exchange, contract.pattern);
      }) as Promise<void>;
      declared.catch(() => this.declared.delete(key));
      this.declared.set(key, declared);
    }
    return declared;
  }

  private onReply(message: ConsumeMessage): void {
    const requestId = String(message.properties.headers?.[RPC_REQUEST_ID_HEADER] ?? '');
    const pending = this.settle(requestId);
    if (!pending) return;
    let reply: RpcReply;
    try {
      reply = JSON.parse(message.content.toString('utf8')) as RpcReply;
    } catch {
      return pending.reject(new Error(`unreadable RPC reply for ${requestId}`));
    }
    if (reply.ok) {
      const checked = checkContract(pending.contract.Reply, reply.result);
      if (!checked.ok) return pending.reject(new Error(`the reply to ${pending.contract.pattern} breaks its contract: ${checked.problems}`));
      return pending.resolve(checked.value);
    }
    const error = reply.error ?? { code: MessagingErrorCodes.Internal, message: 'the service failed without saying why' };
    pending.reject(
      error.kind ? new DomainError(error.code, error.kind as DomainErrorKind, error.message, error.details) : new Error(`${error.code}: ${error.message}`),
    );
  }

  private settle(requestId: string): Pending | undefined {
    const pending = this.pending.get(requestId);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.pending.delete(requestId);
    return pending;
  }

  /** Nest's generic path: this client sends only through contracts (`send`, `emit` above). */
  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new Error('RabbitClient sends requests through an RpcContract: send(contract, request)'), isDisposed: true });
    return () => undefined;
  }

  protected dispatchEvent<T = unknown>(_packet: ReadPacket): Promise<T> {
    return Promise.reject(new Error('RabbitClient emits through a MessageContract: emit(contract, event)'));
  }

  /** Called by the module once consumers have drained, before the connection closes. */
  async close(): Promise<void> {
    await Promise.all([this.publisher.close(), this.replies.close()]);
  }
}

function isContract(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { transport?: unknown }).transport === 'rabbitmq';
}

function unwrapRecord<T>(data: T | RabbitRecord<T>): { payload: T; options: RabbitRecord<T>['options'] } {
  return data instanceof RabbitRecord ? { payload: data.data, options: data.options } : { payload: data, options: {} };
}

function correlation(given: string | undefined): string {
  return given === undefined ? currentCorrelationId() : acceptCorrelationId(given);
}
