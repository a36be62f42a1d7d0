import 'reflect-metadata';
import amqp, { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { MessageHeaders, PriceChanged, Queues, Topics } from '@app/contracts';
import { appUrl } from '@app/testing';

export const MAILDEV_URL = 'http://127.0.0.1:1080';
const RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';

export interface ReceivedMail {
  subject: string;
  text: string;
  html: string;
  to?: { address?: string }[];
  headers: Record<string, string>;
}

/** Mails MailDev holds for one recipient (tests use unique addresses instead of clearing the box). */
export async function mailsTo(address: string): Promise<ReceivedMail[]> {
  const response = await fetch(`${MAILDEV_URL}/email`);
  if (!response.ok) throw new Error(`MailDev answered ${response.status}`);
  const all = (await response.json()) as ReceivedMail[];
  // MailDev leaves `to` out of a mail whose To header it cannot parse (the hostile-input tests register odd, valid addresses).
  return all.filter((mail) => (mail.to ?? []).some((to) => to.address?.toLowerCase() === address.toLowerCase()));
}

export function uniqueAddress(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}@example.com`;
}

/** A confirm channel to RabbitMQ, for sending requests to the mailer as any service would. */
export class Broker {
  private constructor(
    private readonly connection: ChannelModel,
    readonly channel: ConfirmChannel,
  ) {}

  static async connect(): Promise<Broker> {
    const connection = await amqp.connect(RABBITMQ_URL);
    return new Broker(connection, await connection.createConfirmChannel());
  }

  /** Publishes raw bytes to `mail.send` with the given AMQP message id, and waits for the broker's confirm. */
  async sendRaw(content: string, messageId: string): Promise<void> {
    this.channel.sendToQueue(Queues.MailSend, Buffer.from(content), {
      persistent: true,
      contentType: 'application/json',
      messageId,
      correlationId: randomUUID(),
    });
    await this.channel.waitForConfirms();
  }

  async sendMail(request: object, messageId: string): Promise<void> {
    await this.sendRaw(JSON.stringify(request), messageId);
  }

  /** A request/reply call as the api makes it (direct reply-to), for RPC queues of the mailer. */
  async rpc<R>(queue: string, request: object, timeoutMs = 10_000): Promise<R> {
    const channel = await this.connection.createChannel();
    try {
      const requestId = randomUUID();
      const reply = new Promise<R>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer from ${queue} within ${timeoutMs} ms`)), timeoutMs);
        void channel.consume(
          'amq.rabbitmq.reply-to',
          (message) => {
            if (!message) return;
            clearTimeout(timer);
            const body = JSON.parse(message.content.toString()) as { ok: boolean; result?: R; error?: { message: string } };
            if (body.ok) resolve(body.result as R);
            else reject(new Error(body.error?.message));
          },
          { noAck: true },
        );
      });
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(request)), {
        messageId: requestId,
        correlationId: randomUUID(),
        replyTo: 'amq.rabbitmq.reply-to',
        contentType: 'application/json',
      });
      return await reply;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /**
   * Takes the dead-lettered messages whose ids are in `ids` off `mail.send.dlq` (acked), leaving
   * everyone else's there (unacked, so requeued when the channel closes).
   */
  async takeDeadLettered(ids: Set<string>, timeoutMs = 30_000): Promise<Map<string, ConsumeMessage>> {
    const channel = await this.connection.createChannel();
    const found = new Map<string, ConsumeMessage>();
    try {
      await channel.prefetch(10_000);
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`dead-lettered ${found.size} of ${ids.size} expected messages within ${timeoutMs} ms`)), timeoutMs);
        void channel.consume(`${Queues.MailSend}.dlq`, (message) => {
          if (!message) return;
          const id = String(message.properties.messageId);
          if (!ids.has(id)) return;
          channel.ack(message);
          found.set(id, message);
          if (found.size === ids.size) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      await done;
      return found;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}

export const DEAD_LETTER_REASON = MessageHeaders.DeadLetterReason;

/** Publishes PriceChanged events exactly as shop's outbox relay does (key = sku, id and correlation headers). */
export async function publishPriceChanges(events: PriceChanged[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'mailer-e2e', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic: Topics.PriceChanged,
      acks: -1,
      messages: events.map((event) => ({
        key: event.sku,
        value: JSON.stringify(event),
        headers: {
          [MessageHeaders.MessageId]: `price-changed:${event.sku}:${event.version}`,
          [MessageHeaders.CorrelationId]: randomUUID(),
        },
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

/**
 * The sum of one Prometheus counter over the series whose labels include `labels`, across every
 * mailer answering on this machine's usual ports: while several systems run side by side (other
 * test runs, a dev system) their mailers compete for `mail.send`, and any of them may take a message.
 */
export async function mailerCounter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const urls = new Set([appUrl('mailer'), ...[3005, 4005, 4105, 4205, 4305, 4405].map((port) => `http://127.0.0.1:${port}`)]);
  let sum = 0;
  for (const url of urls) {
    const text = await fetch(`${url}/metrics`).then(
      (r) => (r.ok ? r.text() : ''),
      () => '',
    );
    if (!text.includes('app="mailer"')) continue;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}
