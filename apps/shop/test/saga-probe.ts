import amqp, { Channel, ChannelModel } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { Exchanges } from '@app/contracts';

export interface ProbedMessage {
  routingKey: string;
  body: Record<string, unknown>;
  messageId?: string;
  correlationId?: string;
  headers: Record<string, unknown>;
  /** When the probe received it (epoch ms); set by `hold`. */
  receivedAt?: number;
}

/** Messages taken off a queue and kept unacknowledged, so the service behind it sees none of them. */
export interface HeldQueue {
  readonly held: ProbedMessage[];
  /** Gives every held message back to the queue (requeued, in order) and stops holding. */
  release(): Promise<void>;
}

/**
 * A test's own view of the commerce exchange: an exclusive queue bound to the routing keys it
 * watches, and a confirm channel to publish commands as account would.
 */
export class SagaProbe {
  readonly received: ProbedMessage[] = [];
  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
    private readonly publisher: amqp.ConfirmChannel,
  ) {}

  static async open(url: string, bindings: string[]): Promise<SagaProbe> {
    const connection = await amqp.connect(url);
    const channel = await connection.createChannel();
    const publisher = await connection.createConfirmChannel();
    await channel.assertExchange(Exchanges.Commerce, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    for (const key of bindings) await channel.bindQueue(queue, Exchanges.Commerce, key);
    const probe = new SagaProbe(connection, channel, publisher);
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        probe.received.push({
          routingKey: message.fields.routingKey,
          body: JSON.parse(message.content.toString('utf8')) as Record<string, unknown>,
          messageId: message.properties.messageId as string | undefined,
          correlationId: message.properties.correlationId as string | undefined,
          headers: (message.properties.headers ?? {}) as Record<string, unknown>,
        });
      },
      { noAck: true },
    );
    return probe;
  }

  async publish(routingKey: string, body: object | string, messageId: string = randomUUID()): Promise<void> {
    const content = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    this.publisher.publish(Exchanges.Commerce, routingKey, content, {
      persistent: true,
      contentType: 'application/json',
      messageId,
      correlationId: `test-${messageId}`,
    });
    await this.publisher.waitForConfirms();
  }

  about(purchaseId: string): ProbedMessage[] {
    return this.received.filter((m) => m.body.purchaseId === purchaseId);
  }

  /** A message waiting in a queue (e.g. a dead-letter queue), looked up without consuming the rest. */
  async findInQueue(queue: string, predicate: (m: ProbedMessage) => boolean): Promise<ProbedMessage | undefined> {
    const seen: amqp.GetMessage[] = [];
    let found: ProbedMessage | undefined;
    try {
      for (;;) {
        const message = await this.channel.get(queue, { noAck: false });
        if (!message) break;
        seen.push(message);
        const probed: ProbedMessage = {
          routingKey: message.fields.routingKey,
          body: (() => {
            try {
              return JSON.parse(message.content.toString('utf8')) as Record<string, unknown>;
            } catch {
              return { raw: message.content.toString('utf8') };
            }
          })(),
          messageId: message.properties.messageId as string | undefined,
          headers: (message.properties.headers ?? {}) as Record<string, unknown>,
        };
        if (predicate(probed)) {
          found = probed;
          break;
        }
      }
    } finally {
      for (const message of seen) this.channel.nack(message, false, true);
    }
    return found;
  }

  /**
   * Stops a saga step in its tracks: consumes `queue` with a consumer priority above the
   * services' own, so the broker hands every new message to the probe, which holds them
   * unacknowledged until `release` requeues them. Messages the service already took are not held.
   */
  async hold(queue: string): Promise<HeldQueue> {
    const channel = await this.connection.createChannel();
    const held: ProbedMessage[] = [];
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(message.content.toString('utf8')) as Record<string, unknown>;
        } catch {
          body = { raw: message.content.toString('utf8') };
        }
        held.push({
          routingKey: message.fields.routingKey,
          body,
          messageId: message.properties.messageId as string | undefined,
          correlationId: message.properties.correlationId as string | undefined,
          headers: (message.properties.headers ?? {}) as Record<string, unknown>,
          receivedAt: Date.now(),
        });
      },
      { noAck: false, arguments: { 'x-priority': 100 } },
    );
    let released = false;
    return {
      held,
      release: async () => {
        if (released) return;
        released = true;
        await channel.cancel(consumerTag).catch(() => undefined);
        channel.nackAll(true);
        await channel.close().catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}
