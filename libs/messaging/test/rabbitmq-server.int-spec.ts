import { Controller, INestApplication, Logger, Module } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import amqplib, { Channel, ChannelModel } from 'amqplib';
import { IsInt, IsString, Length, Min } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { broadcastQueue, DomainError, message, MessageHeaders, rpc, workQueue } from '@app/contracts';
import { deadLetterQueue, RabbitClient, RabbitContext, RabbitEvent, RabbitmqModule, RabbitRecord, RabbitRpc, RabbitServer } from '@app/messaging';
import { waitFor } from '@app/testing';

jest.setTimeout(60_000);

const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const run = randomUUID().slice(0, 8);
const exchange = `it.exchange.${run}`;

class Order {
  @IsString() @Length(1, 64) id: string;
  @IsInt() @Min(1) quantity: number;
}
class Cancel {
  @IsString() @Length(1, 64) id: string;
}
class Echo {
  @IsString() @Length(1, 100) text: string;
}
class Notice {
  @IsString() id: string;
}

// One work queue carrying two message types, a short ladder so retries finish within the test.
const orders = workQueue(`it.orders.${run}`, { retryDelaysMs: [100, 200] });
const PlaceOrder = message(`it.place-order.${run}`, Order, { exchange, queue: orders });
const CancelOrder = message(`it.cancel-order.${run}`, Cancel, { exchange, queue: orders });
const notices = broadcastQueue(`it.notices.${run}`);
const Announce = message(`it.announce.${run}`, Notice, { exchange, queue: notices });
const Shout = rpc(`it.rpc.shout.${run}`, Echo, Echo);
const Wrong = rpc(`it.rpc.wrong.${run}`, Echo, Order);

/** What the handlers saw, per app instance. */
class Seen {
  placed: string[] = [];
  cancelled: string[] = [];
  announced: string[] = [];
  attempts = new Map<string, number>();
  /** Ids whose handler never returns (a crash while handling). */
  hang = new Set<string>();
}

function controllerFor(seen: Seen) {
  @Controller()
  class OrdersController {
    @RabbitEvent(PlaceOrder)
    async place(@Payload() order: Order, @Ctx() { meta }: RabbitContext): Promise<void> {
      seen.attempts.set(order.id, meta.attempt);
      if (seen.hang.has(order.id)) return new Promise(() => undefined);
      if (order.id.startsWith('flaky') && meta.attempt < 3) throw new Error('the store is down');
      if (order.id.startsWith('broken')) throw new Error('never works');
      if (order.id.startsWith('refused')) throw new DomainError('ORDER.REFUSED', 'conflict', 'that order cannot be placed');
      seen.placed.push(order.id);
    }

    @RabbitEvent(CancelOrder)
    cancel(@Payload() cancel: Cancel): void {
      seen.cancelled.push(cancel.id);
    }

    @RabbitEvent(Announce)
    announce(@Payload() notice: Notice): void {
      seen.announced.push(notice.id);
    }

    @RabbitRpc(Shout)
    async shout(@Payload() { text }: Echo): Promise<Echo> {
      if (text === 'slow') await new Promise((resolve) => setTimeout(resolve, 2_000));
      if (text === 'missing') throw new DomainError('ECHO.NOT_FOUND', 'not_found', 'nothing to echo', [{ text }]);
      if (text === 'crash') throw new Error('a bug with internal details');
      return { text: text.toUpperCase() };
    }

    @RabbitRpc(Wrong)
    wrong(): unknown {
      return { id: '', quantity: 'many' };
    }
  }
  return OrdersController;
}

const instances: INestApplication[] = [];

async function startInstance(name: string, seen = new Seen()) {
  @Module({
    imports: [RabbitmqModule.forRoot({ url: URL, prefetch: 10, connectionName: `it-${name}-${run}` })],
    controllers: [controllerFor(seen)],
  })
  class InstanceModule {}
  const moduleRef = await Test.createTestingModule({ imports: [InstanceModule] }).compile();
  const app = moduleRef.createNestApplication(new FastifyAdapter(), process.env.IT_LOGS ? {} : { logger: false });
  app.connectMicroservice({ strategy: app.get(RabbitServer) });
  await app.init();
  await app.startAllMicroservices();
  instances.push(app);
  const server = app.get(RabbitServer);
  await waitFor(`${name} consuming`, () => server.notConsuming().length === 0);
  return { app, seen, client: app.get(RabbitClient), server };
}

describe('RabbitServer and RabbitClient (integration: real RabbitMQ)', () => {
  let a: Awaited<ReturnType<typeof startInstance>>;
  let b: Awaited<ReturnType<typeof startInstance>> | undefined;
  let connection: ChannelModel;
  let channel: Channel;

  beforeAll(async () => {
    if (!process.env.IT_LOGS) Logger.overrideLogger(false);
    a = await startInstance('a');
    connection = await amqplib.connect(URL);
    channel = await connection.createChannel();
  });

  afterAll(async () => {
    for (const app of instances.reverse()) await app.close().catch(() => undefined);
    for (const queue of [
      orders.name,
      deadLetterQueue(orders.name),
      `${orders.name}.retry.100ms`,
      `${orders.name}.retry.200ms`,
      deadLetterQueue(notices.name),
    ]) {
      await channel?.deleteQueue(queue).catch(() => undefined);
    }
    await channel?.deleteExchange(exchange).catch(() => undefined);
    for (const queue of [Shout.pattern, Wrong.pattern]) await channel?.deleteQueue(queue).catch(() => undefined);
    await connection?.close();
  });

  /** Messages on a dead-letter queue, with their reasons. */
  async function deadLetters(queue: string, count: number) {
    const found: { body: string; reason: string; routingKey: string }[] = [];
    await waitFor(`${count} dead letter(s) on ${queue}`, async () => {
      for (;;) {
        const got = await channel.get(queue, { noAck: true });
        if (!got) break;
        found.push({
          body: got.content.toString(),
          reason: String(got.properties.headers?.[MessageHeaders.DeadLetterReason]),
          routingKey: String(got.properties.headers?.['x-original-routing-key']),
        });
      }
      return found.length >= count;
    });
    return found;
  }

  it('hands each message type of a shared queue to its own handler', async () => {
    await a.client.dispatch(PlaceOrder, { id: `o-${run}`, quantity: 2 });
    await a.client.dispatch(CancelOrder, { id: `o-${run}` });
    await waitFor('both handled', () => a.seen.placed.includes(`o-${run}`) && a.seen.cancelled.includes(`o-${run}`));
  });

  it('retries a failing handler on the ladder and acks it once it succeeds', async () => {
    await a.client.dispatch(PlaceOrder, { id: `flaky-${run}`, quantity: 1 });
    await waitFor('handled on the third attempt', () => a.seen.placed.includes(`flaky-${run}`));
    expect(a.seen.attempts.get(`flaky-${run}`)).toBe(3);
  });

  it('dead-letters with the reason: invalid messages at once, a refusal at once, a failure after the ladder', async () => {
    await channel.assertExchange(exchange, 'topic', { durable: true });
    channel.publish(exchange, PlaceOrder.pattern, Buffer.from('{not json'));
    channel.publish(exchange, PlaceOrder.pattern, Buffer.from(JSON.stringify({ id: 'x', quantity: 0 })));
    channel.publish(exchange, `it.unknown.${run}`, Buffer.from('{}'));
    await channel.bindQueue(orders.name, exchange, `it.unknown.${run}`);
    channel.publish(exchange, `it.unknown.${run}`, Buffer.from('{}'));
    await a.client.dispatch(PlaceOrder, { id: `refused-${run}`, quantity: 1 });
    await a.client.dispatch(PlaceOrder, { id: `broken-${run}`, quantity: 1 });

    const dead = await deadLetters(deadLetterQueue(orders.name), 5);
    const reasons = dead.map((d) => d.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^not JSON/),
        expect.stringMatching(/^invalid Order: quantity must not be less than 1/),
        expect.stringMatching(/^MESSAGE.UNKNOWN_TYPE: no handler for routing key "it.unknown/),
        'ORDER.REFUSED: that order cannot be placed (after 1 attempt(s))',
        'never works (after 3 attempt(s))',
      ]),
    );
    expect(a.seen.attempts.get(`broken-${run}`)).toBe(3);
  });

  it('refuses to send a message that breaks its contract', async () => {
    await expect(a.client.dispatch(PlaceOrder, { id: '', quantity: 1 })).rejects.toThrow(/refusing to send an invalid it.place-order/);
  });

  describe('request/reply', () => {
    it('answers with the reply, checked against its contract', async () => {
      const reply = await a.client.request(Shout, { text: 'hello' });
      expect(reply).toEqual({ text: 'HELLO' });
      expect(reply).toBeInstanceOf(Echo);
    });

    it('carries a DomainError back with its code, kind and details, and hides any other error', async () => {
      await expect(a.client.request(Shout, { text: 'missing' })).rejects.toMatchObject({
        code: 'ECHO.NOT_FOUND',
        kind: 'not_found',
        message: 'nothing to echo',
        details: [{ text: 'missing' }],
      });
      const other = await a.client.request(Shout, { text: 'crash' }).catch((e: Error) => e);
      expect(other).not.toBeInstanceOf(DomainError);
      expect((other as Error).message).toBe('INTERNAL: the service failed to handle the request');
    });

    it('refuses an invalid request before it leaves, and the server refuses one sent around the client', async () => {
      await expect(a.client.request(Shout, { text: '' })).rejects.toMatchObject({ code: 'MESSAGE.INVALID', kind: 'invalid' });
      // The same request sent raw: the server answers it, naming the problem but no class.
      const replyTo = 'amq.rabbitmq.reply-to';
      const answered = new Promise<Record<string, unknown>>((resolve) => {
        void channel.consume(replyTo, (m) => m && resolve(JSON.parse(m.content.toString()) as Record<string, unknown>), { noAck: true });
      });
      channel.sendToQueue(Shout.pattern, Buffer.from(JSON.stringify({ text: '' })), { replyTo, messageId: randomUUID() });
      const reply = await answered;
      expect(reply).toMatchObject({ ok: false, error: { code: 'MESSAGE.INVALID', kind: 'invalid' } });
      expect(JSON.stringify(reply)).not.toContain('Echo');
    });

    it('rejects a reply that breaks its contract', async () => {
      await expect(a.client.request(Wrong, { text: 'x' })).rejects.toThrow(/the reply to it.rpc.wrong.* breaks its contract/);
    });

    it('times out as unavailable when no answer comes in time, and settles once', async () => {
      const started = Date.now();
      const error = await a.client.request(Shout, new RabbitRecord({ text: 'slow' }, { timeoutMs: 300 })).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'RPC.TIMEOUT', kind: 'unavailable' });
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('works through Nest’s send() as an observable', async () => {
      const { firstValueFrom } = await import('rxjs');
      await expect(firstValueFrom(a.client.send(Shout, { text: 'rx' }))).resolves.toEqual({ text: 'RX' });
    });
  });

  describe('two instances', () => {
    beforeAll(async () => {
      b = await startInstance('b');
    });

    it('delivers a broadcast to every instance, and a work message to one', async () => {
      const id = `n-${run}`;
      await a.client.dispatch(Announce, { id });
      await waitFor('both instances heard it', () => a.seen.announced.includes(id) && b!.seen.announced.includes(id));
      const orderIds = Array.from({ length: 20 }, (_, i) => `w${i}-${run}`);
      await Promise.all(orderIds.map((id) => a.client.dispatch(PlaceOrder, { id, quantity: 1 })));
      await waitFor('every order handled', () => orderIds.every((o) => a.seen.placed.includes(o) || b!.seen.placed.includes(o)));
      expect(orderIds.filter((o) => a.seen.placed.includes(o) && b!.seen.placed.includes(o))).toEqual([]);
    });

    it('redelivers to the other instance a message whose handler was cut off by a crash', async () => {
      const id = `crash-${run}`;
      const both = [a, b!];
      for (const instance of both) instance.seen.hang.add(id);
      await a.client.dispatch(PlaceOrder, { id, quantity: 1 });
      const holder = await waitFor('an instance holding it', () => both.find((i) => i.seen.attempts.has(id)));
      const other = both.find((i) => i !== holder)!;
      other.seen.hang.delete(id);
      // The holder's connection dies with the message unacknowledged, as in a crash.
      void (holder.server.unwrap() as { close(): Promise<void> }).close().catch(() => undefined);
      await waitFor('redelivered to the other instance and handled', () => other.seen.placed.includes(id));
      expect(other.seen.attempts.get(id)).toBe(1);
      expect(holder.seen.placed).not.toContain(id);
    });
  });
});
