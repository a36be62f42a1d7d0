import { Inject, Injectable, Logger } from '@nestjs/common';
import { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { DomainError, DomainErrorKind } from '@app/contracts';
import { correlationId as currentCorrelationId } from '@app/observability';
import { RPC_REQUEST_ID_HEADER, RpcReply } from './rabbit-consumers';
import { RABBITMQ_CONNECTION } from './rabbitmq.tokens';

const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Request/reply over RabbitMQ with direct reply-to (no reply queue to declare or clean up).
 * A DomainError thrown by the remote handler is rethrown here with the same code and kind, so
 * the HTTP edge maps it like a local one. A request that gets no answer in time is a 503.
 */
@Injectable()
export class RabbitRpcClient {
  private readonly logger = new Logger(RabbitRpcClient.name);
  private readonly pending = new Map<string, Pending>();
  private readonly channel: ChannelWrapper;

  constructor(@Inject(RABBITMQ_CONNECTION) connection: AmqpConnectionManager) {
    this.channel = connection.createChannel({
      name: 'rpc-client',
      confirm: false,
      setup: async (ch: Channel) => {
        await ch.consume(DIRECT_REPLY_TO, (message) => message && this.onReply(message), { noAck: true });
      },
    });
  }

  /**
   * Settles exactly once, within `timeoutMs` whatever the broker does: with the reply, with the
   * remote DomainError, or with a 503-kind DomainError when the request could not be sent or got
   * no answer in time. The publish is never awaited on its own, so nothing is left unhandled.
   */
  request<R>(queue: string, message: object, { timeoutMs = 5_000 } = {}): Promise<R> {
    const messageId = randomUUID();
    const service = queue.split('.')[0];
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(messageId);
        reject(new DomainError('RPC.TIMEOUT', 'unavailable', `The ${service} service did not answer in time; try again.`));
      }, timeoutMs);
      this.pending.set(messageId, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.channel
        .sendToQueue(queue, Buffer.from(JSON.stringify(message)), {
          messageId,
          correlationId: currentCorrelationId(),
          replyTo: DIRECT_REPLY_TO,
          contentType: 'application/json',
          // A request nobody waits for any more is not worth handling.
          expiration: timeoutMs,
          // While the broker is unreachable the request waits in the channel's queue, at most this long.
          timeout: timeoutMs,
        })
        .catch((error: Error) => {
          this.logger.warn({ msg: `RPC request to ${queue} not sent`, err: error.message });
          this.settle(messageId)?.reject(new DomainError('RPC.UNAVAILABLE', 'unavailable', `The ${service} service cannot be reached right now; try again.`));
        });
    });
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
    if (reply.ok) return pending.resolve(reply.result);
    const error = reply.error ?? { code: 'INTERNAL', message: 'the service failed without saying why' };
    pending.reject(
      error.kind
        ? new DomainError(error.code, error.kind as DomainErrorKind, error.message, error.details)
        : new Error(`${error.code}: ${error.message}`),
    );
  }

  private settle(requestId: string): Pending | undefined {
    const pending = this.pending.get(requestId);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.pending.delete(requestId);
    return pending;
  }

  /** Called by the module before the connection closes. */
  async close(): Promise<void> {
    await this.channel.close();
  }
}
