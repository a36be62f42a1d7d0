import { Logger } from '@nestjs/common';
import { AmqpConnectionManager } from 'amqp-connection-manager';
import type { Channel, ChannelModel, ConfirmChannel, GetMessage, Options } from 'amqplib';
import { createHash } from 'node:crypto';
import { DomainError, MessageContracts } from '@app/contracts';
import { DEAD_LETTER_ONLY_HEADERS, DeadLetterHeaders, headerText, isoTime, readablePayload } from './dead-letter-headers';
import { DeadLetterErrorCodes, DeadLetterMessage, DeadLetterQueue, ReplayResult, unavailable } from './dead-letters.types';

const ROUTING_KEY_HEADER = 'x-original-routing-key';
const ATTEMPT_HEADER = 'x-attempt';
/** Messages republished before their confirms are awaited and their dead-letter copies acked. */
const CONFIRM_CHUNK = 50;

/**
 * The RabbitMQ dead-letter queues, on the app's own connection:
 * - counted with a passive declare (a queue that does not exist yet holds nothing);
 * - inspected with basic.get without ack, then every delivery is given back (nack with requeue),
 *   which puts each message back at its place: nothing is lost or reordered;
 * - replayed by publishing each message again, with its properties and routing key, to its source
 *   queue (a broadcast queue's copy through its exchange, to every instance), on a confirm channel;
 *   only once the broker confirmed it is its dead-letter copy acked. A delivery is held by one
 *   channel at a time, so two replays never republish the same copy.
 */
export class RabbitDeadLetters {
  private readonly logger = new Logger(RabbitDeadLetters.name);

  constructor(private readonly connection: AmqpConnectionManager) {}

  count(queue: DeadLetterQueue): Promise<number> {
    return this.withChannel(false, (channel) => this.depth(channel, queue.name));
  }

  summary(queue: DeadLetterQueue): Promise<{ count: number; oldestAt: string | null }> {
    return this.withChannel(false, async (channel) => {
      const count = await this.depth(channel, queue.name);
      if (count === 0) return { count, oldestAt: null };
      const head = await channel.get(queue.name, { noAck: false });
      if (!head) return { count, oldestAt: null };
      const oldestAt = this.describe(queue, head).deadLetteredAt;
      channel.nack(head, false, true);
      return { count, oldestAt };
    });
  }

  /** The oldest `limit` messages, oldest first; all of them stay in the queue, in their order. */
  inspect(queue: DeadLetterQueue, limit: number): Promise<DeadLetterMessage[]> {
    return this.withChannel(false, async (channel) => {
      const messages: DeadLetterMessage[] = [];
      if ((await this.depth(channel, queue.name)) === 0) return messages;
      try {
        while (messages.length < limit) {
          const message = await channel.get(queue.name, { noAck: false });
          if (!message) break;
          messages.push(this.describe(queue, message));
        }
      } finally {
        channel.nackAll(true);
      }
      return messages;
    });
  }

  /** Replays the messages `ids` (all of them when undefined), as many as the queue holds when the call starts. */
  replay(queue: DeadLetterQueue, ids?: string[]): Promise<ReplayResult> {
    const wanted = ids === undefined ? undefined : new Set(ids);
    return this.withChannel(true, async (channel) => {
      const confirm = channel as ConfirmChannel;
      const total = await this.depth(channel, queue.name);
      if (total === 0) return { replayed: 0, skipped: ids ? [...new Set(ids)] : [] };
      await this.checkSource(channel, queue);
      const replayedIds = new Set<string>();
      let replayed = 0;
      let unconfirmed: { message: GetMessage; id: string }[] = [];
      const settle = async () => {
        if (unconfirmed.length === 0) return;
        await confirm.waitForConfirms();
        for (const { message, id } of unconfirmed) {
          confirm.ack(message);
          replayedIds.add(id);
          replayed++;
        }
        unconfirmed = [];
      };
      try {
        // Bounded by what the queue held at the start: a poison message that comes back while this runs waits for the next replay.
        for (let seen = 0; seen < total; seen++) {
          if (wanted && [...wanted].every((id) => replayedIds.has(id) || unconfirmed.some((u) => u.id === id))) break;
          const message = await confirm.get(queue.name, { noAck: false });
          if (!message) break;
          const id = this.idOf(message);
          // Not asked for: held (unacked) until the end, then given back at its place.
          if (wanted && !wanted.has(id)) continue;
          if (!this.republish(confirm, queue, id, message)) continue;
          unconfirmed.push({ message, id });
          if (unconfirmed.length >= CONFIRM_CHUNK) await settle();
        }
        await settle();
      } finally {
        // Everything not acked goes back: held messages, and any whose republish was not confirmed.
        confirm.nackAll(true);
      }
      if (replayed > 0) this.logger.log({ msg: `replayed ${replayed} message(s) of ${queue.name} to ${queue.source}` });
      return { replayed, skipped: ids ? [...new Set(ids)].filter((id) => !replayedIds.has(id)) : [] };
    });
  }

  private republish(channel: ConfirmChannel, queue: DeadLetterQueue, id: string, message: GetMessage): boolean {
    const original = (message.properties.headers ?? {}) as Record<string, unknown>;
    const headers: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(original)) {
      if (!DEAD_LETTER_ONLY_HEADERS.includes(name) && name !== ATTEMPT_HEADER) headers[name] = value;
    }
    headers[DeadLetterHeaders.ReplayOf] = `${queue.name}/${id}`;
    const options: Options.Publish = { headers, persistent: true };
    const { contentType, contentEncoding, priority, correlationId, replyTo, expiration, messageId, timestamp, type, appId } = message.properties;
    Object.assign(options, definedOnly({ contentType, contentEncoding, priority, correlationId, replyTo, expiration, messageId, timestamp, type, appId }));
    const routingKey = headerText(original, ROUTING_KEY_HEADER) ?? message.fields.routingKey;
    if (queue.queue?.kind === 'broadcast') {
      // A broadcast queue is one per instance: its message goes back through its exchange, to every instance.
      const contract = Object.values(MessageContracts).find((c) => c.queue.name === queue.source && c.pattern === routingKey);
      if (!contract) {
        this.logger.warn({ msg: `cannot replay ${id} of ${queue.name}: no message of ${queue.source} has routing key "${routingKey}"` });
        return false;
      }
      channel.publish(contract.exchange, routingKey, message.content, options);
      return true;
    }
    // Straight to the queue it came from (not through an exchange, which may route to others too);
    // the routing key travels in its header, which the consumer dispatches by.
    headers[ROUTING_KEY_HEADER] = routingKey;
    channel.sendToQueue(queue.source, message.content, options);
    return true;
  }

  private async checkSource(channel: Channel, queue: DeadLetterQueue): Promise<void> {
    if (queue.queue?.kind === 'broadcast') return;
    try {
      await channel.checkQueue(queue.source);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      throw new DomainError(
        DeadLetterErrorCodes.SourceMissing,
        'conflict',
        `The source queue ${queue.source} does not exist on the broker (has its consumer ever started?); nothing was replayed.`,
      );
    }
  }

  private describe(queue: DeadLetterQueue, message: GetMessage): DeadLetterMessage {
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    return {
      id: this.idOf(message),
      reason: headerText(headers, DeadLetterHeaders.Reason) ?? 'no reason was recorded',
      deadLetteredAt: isoTime(headerText(headers, DeadLetterHeaders.At)) ?? null,
      source: headerText(headers, DeadLetterHeaders.OriginalQueue) ?? queue.source,
      payload: readablePayload(message.content),
    };
  }

  /** The id the transport gave the dead-lettered copy; for older copies the message id, else a digest of the message. */
  private idOf(message: GetMessage): string {
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const given = headerText(headers, DeadLetterHeaders.Id);
    if (given) return given;
    const messageId = message.properties.messageId as unknown;
    if (typeof messageId === 'string' && messageId !== '') return messageId;
    const digest = createHash('sha256').update(message.content).update(JSON.stringify(headers)).digest('hex');
    return `sha256-${digest.slice(0, 32)}`;
  }

  /**
   * Messages ready in `name`; 0 when the queue does not exist yet (nothing was ever dead-lettered
   * there). The broker then closes the channel, so a caller stops at 0.
   */
  private async depth(channel: Channel, name: string): Promise<number> {
    try {
      return (await channel.checkQueue(name)).messageCount;
    } catch (error) {
      if (isNotFound(error)) return 0;
      throw error;
    }
  }

  /** Runs `work` on a channel of its own (a failed passive declare closes a channel), closed afterwards. */
  private async withChannel<T>(confirm: boolean, work: (channel: Channel) => Promise<T>): Promise<T> {
    // The manager's typing predates amqplib's ChannelModel split; at run time it is the model.
    const raw = this.connection.connection as unknown as ChannelModel | undefined;
    if (!raw || !this.connection.isConnected()) throw unavailable('The api is not connected to RabbitMQ right now; try again in a moment.');
    let channel: Channel;
    try {
      channel = confirm ? await raw.createConfirmChannel() : await raw.createChannel();
    } catch (error) {
      throw unavailable(`RabbitMQ did not open a channel: ${(error as Error).message}; try again in a moment.`);
    }
    // A channel error (the broker closing it) must never reach the process as an unhandled 'error' event.
    channel.on('error', (error: Error) => this.logger.debug(`dead-letter channel closed: ${error.message}`));
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 404;
}

function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}
