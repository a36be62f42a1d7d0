import 'reflect-metadata';
import { Controller, INestApplication, Inject, Type } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { lastValueFrom } from 'rxjs';
import { createServer, Server as NetServer, Socket } from 'node:net';
import { DomainError, MessageHeaders, topic, TopicContract } from '@app/contracts';
import {
  ConsumedMessage,
  createKafka,
  KAFKA,
  KafkaBatch,
  KafkaBatchContext,
  KafkaClient,
  KafkaPublisher,
  KafkaConsumersHealthIndicator,
  KafkaModule,
  KafkaModuleOptions,
  KafkaServer,
  PartitionsEvent,
} from '@app/messaging';
import { metricsRegistry } from '@app/observability';
import { waitFor } from '@app/testing';

jest.setTimeout(180_000);

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const run = randomUUID().slice(0, 8);

class Ping {
  @IsString()
  id!: string;

  @IsInt()
  @Min(0)
  n!: number;
}

/** What a test app's handler does with a batch; each test brings its own. */
type Handle = (batch: ConsumedMessage<Ping>[], context: KafkaBatchContext) => Promise<void> | void;
const HANDLE = Symbol('HANDLE');

function controllerFor(contract: TopicContract<Ping>, group: string): Type<unknown> {
  @Controller()
  class PingBatchController {
    constructor(@Inject(HANDLE) private readonly handle: Handle) {}

    @KafkaBatch(contract, { group })
    async onBatch(@Payload() batch: ConsumedMessage<Ping>[], @Ctx() context: KafkaBatchContext): Promise<void> {
      await this.handle(batch, context);
    }
  }
  return PingBatchController;
}

interface TestApp {
  app: INestApplication;
  server: KafkaServer;
  readiness: KafkaConsumersHealthIndicator;
}

const apps: TestApp[] = [];

/** A Nest app with one `@KafkaBatch` handler, its transport connected and started as `runApp` does. */
async function startApp(
  contract: TopicContract<Ping>,
  group: string,
  handle: Handle,
  options: { module?: Partial<KafkaModuleOptions>; kafka?: Kafka; beforeStart?: (server: KafkaServer) => void } = {},
): Promise<TestApp> {
  let builder = Test.createTestingModule({
    imports: [KafkaModule.forRoot({ clientId: `it-kafka-server-${run}`, brokers: BROKERS, closeTimeoutMs: 3000, ...options.module })],
    controllers: [controllerFor(contract, group)],
    providers: [{ provide: HANDLE, useValue: handle }],
  });
  if (options.kafka) builder = builder.overrideProvider(KAFKA).useValue(options.kafka);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
  const server = app.get(KafkaServer);
  options.beforeStart?.(server);
  app.connectMicroservice({ strategy: server });
  await app.init();
  await app.startAllMicroservices();
  const started = { app, server, readiness: app.get(KafkaConsumersHealthIndicator) };
  apps.push(started);
  return started;
}

async function closeApp(testApp: TestApp): Promise<void> {
  apps.splice(apps.indexOf(testApp), 1);
  await testApp.app.close();
}

const kafka = createKafka({ clientId: `it-kafka-server-test-${run}`, brokers: BROKERS });
const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
const admin = kafka.admin();
const created: { topics: string[]; groups: string[] } = { topics: [], groups: [] };

function contractFor(name: string, partitions: number): TopicContract<Ping> {
  const contract = topic(`it.kafka-server.${run}.${name}`, Ping, { partitions });
  created.topics.push(contract.topic, contract.deadLetterTopic);
  return contract;
}

function groupFor(name: string): string {
  const group = `it-kafka-server-${run}-${name}`;
  created.groups.push(group);
  return group;
}

const ping = (id: string, n = 1) => JSON.stringify({ id, n });

async function send(topicName: string, messages: { key?: string; value: string | null; partition?: number; headers?: Record<string, string> }[]) {
  await producer.send({ topic: topicName, acks: -1, messages });
}

/** The group's committed offset per partition (-1: nothing committed), next to the topic's end offsets. */
async function offsets(group: string, topicName: string): Promise<{ partition: number; committed: bigint; end: bigint }[]> {
  const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topicName), admin.fetchOffsets({ groupId: group, topics: [topicName] })]);
  return ends
    .map((e) => ({
      partition: e.partition,
      committed: BigInt(committed.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1'),
      end: BigInt(e.high),
    }))
    .sort((a, b) => a.partition - b.partition);
}

const caughtUp = async (group: string, topicName: string) => (await offsets(group, topicName)).every((p) => p.committed === p.end);

/** `kafka_consumer_lag` as /metrics exports it, for one group: partition → lag. */
async function exportedLag(group: string): Promise<Map<number, number>> {
  const lag = new Map<number, number>();
  for (const line of (await metricsRegistry.metrics()).split('\n')) {
    if (!line.startsWith('kafka_consumer_lag{') || !line.includes(`group="${group}"`)) continue;
    lag.set(Number(/partition="(\d+)"/.exec(line)![1]), Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return lag;
}

async function readiness(testApp: TestApp): Promise<string> {
  return (await testApp.readiness.check())['kafka-consumers'].status;
}

const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);

beforeAll(async () => {
  await producer.connect();
  await admin.connect();
});

afterAll(async () => {
  for (const testApp of [...apps]) await closeApp(testApp).catch(() => undefined);
  await producer.disconnect();
  await admin.deleteGroups(created.groups).catch(() => undefined);
  const existing = new Set(await admin.listTopics());
  const topics = created.topics.filter((t) => existing.has(t));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

describe(KafkaServer.name, () => {
  it('commits a batch only after its handler succeeded: holds it while the handler fails, says so in readiness, and redelivers nothing after a restart', async () => {
    const contract = contractFor('commit', 2);
    const group = groupFor('commit');
    let failing = true;
    let failures = 0;
    const handled: string[] = [];
    const handle: Handle = (batch) => {
      if (failing) {
        failures++;
        throw new Error('the store is unavailable');
      }
      handled.push(...batch.map((m) => m.value.id));
    };
    const first = await startApp(contract, group, handle);
    await waitFor('the consumer to join its group', () => first.server.notReadyReason() === undefined);
    expect(await readiness(first)).toBe('up');

    const ids = Array.from({ length: 20 }, (_, i) => `c${i}`);
    await send(
      contract.topic,
      ids.map((id, i) => ({ key: id, value: ping(id), partition: i % 2 })),
    );

    await waitFor('the handler to fail a few times', () => failures >= 3);
    expect(first.server.notReadyReason()).toMatch(
      new RegExp(`group ${group} is stalled on ${contract.topic.replace(/\./g, '\\.')}\\[\\d\\]: the store is unavailable`),
    );
    expect(await readiness(first)).toBe('down');
    expect((await offsets(group, contract.topic)).map((p) => p.committed)).toEqual([-1n, -1n]);
    await waitFor('the lag of the group to be exported', async () => sum((await exportedLag(group)).values()) === 20);

    failing = false;
    await waitFor('every record to be handled and committed', async () => handled.length === ids.length && (await caughtUp(group, contract.topic)));
    expect([...handled].sort()).toEqual([...ids].sort());
    await waitFor('readiness to be up again', async () => (await readiness(first)) === 'up');
    await waitFor('the exported lag to fall to 0', async () => {
      const lag = await exportedLag(group);
      return lag.size === 2 && sum(lag.values()) === 0;
    });
    await closeApp(first);

    const again: string[] = [];
    const second = await startApp(contract, group, (batch) => void again.push(...batch.map((m) => m.value.id)));
    await waitFor('the restarted consumer to join', () => second.server.notReadyReason() === undefined);
    await send(contract.topic, [{ key: 'c-late', value: ping('c-late') }]);
    await waitFor('the new record to be handled and committed', async () => again.includes('c-late') && (await caughtUp(group, contract.topic)));
    expect(again).toEqual(['c-late']);
    await closeApp(second);
  });

  it('redelivers a batch whose handler never finished to the next instance of the group', async () => {
    const contract = contractFor('crash', 1);
    const group = groupFor('crash');
    const received: string[] = [];
    let release!: () => void;
    const hung = new Promise<void>((resolve) => (release = resolve));
    const crashing = await startApp(contract, group, async (batch) => {
      received.push(...batch.map((m) => m.value.id));
      await hung;
    });
    await waitFor('the consumer to join its group', () => crashing.server.notReadyReason() === undefined);
    const ids = Array.from({ length: 10 }, (_, i) => `r${i}`);
    await send(
      contract.topic,
      ids.map((id) => ({ key: id, value: ping(id) })),
    );
    await waitFor('the first instance to receive the records', () => received.length > 0);

    const closing = Date.now();
    await closeApp(crashing);
    expect(Date.now() - closing).toBeLessThan(10_000); // bounded by closeTimeoutMs, though the handler never finished
    expect((await offsets(group, contract.topic)).map((p) => p.committed)).toEqual([-1n]);

    const redelivered: string[] = [];
    const next = await startApp(contract, group, (batch) => void redelivered.push(...batch.map((m) => m.value.id)));
    try {
      await waitFor(
        'the next instance to get every record again and commit',
        async () => redelivered.length >= ids.length && (await caughtUp(group, contract.topic)),
        {
          timeoutMs: 90_000,
          intervalMs: 250,
        },
      );
      expect(redelivered).toEqual(ids);
    } finally {
      release();
      // The first instance's kafkajs consumer ends once its batch does.
      await crashing.server.close();
    }
    await closeApp(next);
  });

  it('dead-letters records that are not JSON or break the contract, with the reason, and hands their valid neighbours to the handler', async () => {
    const contract = contractFor('dlq', 1);
    const group = groupFor('dlq');
    const handled: ConsumedMessage<Ping>[] = [];
    const app = await startApp(contract, group, (batch) => void handled.push(...batch));
    await waitFor('the consumer to join its group', () => app.server.notReadyReason() === undefined);

    await send(contract.topic, [
      { key: 'v1', value: ping('v1'), headers: { [MessageHeaders.CorrelationId]: 'corr-v1', [MessageHeaders.MessageId]: 'msg-v1' } },
      { key: 'bad-json', value: '{"id": "x", ', headers: { [MessageHeaders.MessageId]: 'msg-bad-json' } },
      { key: 'v2', value: ping('v2') },
      { key: 'bad-contract', value: ping('x', -5) },
      { key: 'v3', value: ping('v3') },
    ]);
    await waitFor('the valid records to be handled and the batch committed', async () => handled.length === 3 && (await caughtUp(group, contract.topic)));
    expect(handled.map((m) => [m.value.id, m.offset])).toEqual([
      ['v1', '0'],
      ['v2', '2'],
      ['v3', '4'],
    ]);
    expect(handled[0]).toMatchObject({ topic: contract.topic, partition: 0, key: 'v1', messageId: 'msg-v1', correlationId: 'corr-v1' });
    expect(handled[0].value).toBeInstanceOf(Ping);

    const dead: { key: string; headers: Record<string, string> }[] = [];
    const reader = kafka.consumer({ groupId: groupFor('dlq-reader') });
    await reader.connect();
    await reader.subscribe({ topics: [contract.deadLetterTopic], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        dead.push({ key: message.key!.toString(), headers });
      },
    });
    try {
      await waitFor('both invalid records on the dead-letter topic', () => dead.length >= 2);
    } finally {
      await reader.disconnect();
    }
    expect(dead.map((d) => d.key)).toEqual(['bad-json', 'bad-contract']);
    expect(dead[0].headers).toMatchObject({
      [MessageHeaders.MessageId]: 'msg-bad-json',
      'x-original-topic': contract.topic,
      'x-original-partition': '0',
      'x-original-offset': '1',
    });
    expect(dead[0].headers[MessageHeaders.DeadLetterReason]).toMatch(/^not JSON: /);
    expect(dead[1].headers).toMatchObject({ 'x-original-topic': contract.topic, 'x-original-offset': '3' });
    expect(dead[1].headers[MessageHeaders.DeadLetterReason]).toMatch(/^invalid Ping: n must not be less than 0/);

    const metrics = await metricsRegistry.metrics();
    expect(metrics).toMatch(
      new RegExp(`kafka_consumer_messages_total\\{topic="${contract.topic.replace(/\./g, '\\.')}",group="${group}",outcome="dead_lettered"\\} 2`),
    );
    expect(metrics).toMatch(
      new RegExp(`kafka_consumer_messages_total\\{topic="${contract.topic.replace(/\./g, '\\.')}",group="${group}",outcome="handled"\\} 3`),
    );
    await closeApp(app);
  });

  it('dead-letters the records a handler refuses for good (a non-retryable DomainError), found by halving the batch, and commits the rest', async () => {
    const contract = contractFor('refused', 1);
    const group = groupFor('refused');
    const handled: string[] = [];
    let calls = 0;
    let transientLeft = 1;
    const app = await startApp(contract, group, (batch) => {
      calls++;
      // One transient failure first: it is retried as a whole, never dead-lettered.
      if (transientLeft-- > 0) throw new DomainError('TEST.BUSY', 'unavailable', 'the store is busy');
      const refused = batch.find((m) => m.value.id.startsWith('poison'));
      if (refused) throw new DomainError('TEST.REFUSED', 'invalid', `${refused.value.id} can never be handled`);
      handled.push(...batch.map((m) => m.value.id));
    });
    await waitFor('the consumer to join its group', () => app.server.notReadyReason() === undefined);

    const ids = ['a', 'b', 'poison-1', 'c', 'd', 'e', 'poison-2', 'f'];
    await send(
      contract.topic,
      ids.map((id) => ({ key: 'one-key', value: ping(id) })),
    );
    await waitFor('the good records handled and the batch committed', async () => handled.length === 6 && (await caughtUp(group, contract.topic)), {
      timeoutMs: 30_000,
    });
    // Every good record once, in the order of the partition.
    expect(handled).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);

    const dead: { id: string; reason: string; offset: string }[] = [];
    const reader = kafka.consumer({ groupId: groupFor('refused-reader') });
    await reader.connect();
    await reader.subscribe({ topics: [contract.deadLetterTopic], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        dead.push({
          id: (JSON.parse(message.value!.toString()) as Ping).id,
          reason: String(message.headers![MessageHeaders.DeadLetterReason]),
          offset: String(message.headers!['x-original-offset']),
        });
      },
    });
    try {
      await waitFor('both refused records on the dead-letter topic', () => dead.length >= 2);
    } finally {
      await reader.disconnect();
    }
    expect(dead).toEqual([
      { id: 'poison-1', reason: 'TEST.REFUSED: poison-1 can never be handled', offset: '2' },
      { id: 'poison-2', reason: 'TEST.REFUSED: poison-2 can never be handled', offset: '6' },
    ]);
    // 8 records, 2 refused: the transient failure, the whole batch, then halves down to each poison.
    expect(calls).toBeLessThanOrEqual(2 + 2 * 2 * Math.ceil(Math.log2(ids.length)));
    await closeApp(app);
  });

  it('splits the partitions between two instances of a group, tells each what it was given, and hands all to the one left', async () => {
    const contract = contractFor('rebalance', 4);
    const group = groupFor('rebalance');
    const handled: { by: 'a' | 'b'; id: string; partition: number }[] = [];
    const assignments: Record<'a' | 'b', number[]> = { a: [], b: [] };
    const revoked: Record<'a' | 'b', PartitionsEvent[]> = { a: [], b: [] };
    const contexts: { context: KafkaBatchContext; batch: ConsumedMessage<Ping>[] }[] = [];
    const instance = (by: 'a' | 'b') =>
      startApp(
        contract,
        group,
        (batch, context) => {
          contexts.push({ context, batch });
          handled.push(...batch.map((m) => ({ by, id: m.value.id, partition: m.partition })));
        },
        {
          beforeStart: (server) => {
            server.on('partitions-assigned', (event) => (assignments[by] = event.partitions));
            server.on('partitions-revoked', (event) => revoked[by].push(event));
          },
        },
      );

    const a = await instance('a');
    await waitFor('the first instance to own every partition', () => assignments.a.length === 4);
    const b = await instance('b');
    await waitFor(
      'the partitions to be split between both instances',
      () => {
        const all = [...assignments.a, ...assignments.b].sort();
        return (
          assignments.a.length > 0 &&
          assignments.b.length > 0 &&
          all.join() === '0,1,2,3' &&
          a.server.notReadyReason() === undefined &&
          b.server.notReadyReason() === undefined
        );
      },
      { timeoutMs: 60_000 },
    );
    expect(revoked.a[0]).toEqual({ groupId: group, topic: contract.topic, partitions: [0, 1, 2, 3] });

    const ids = Array.from({ length: 40 }, (_, i) => `p${i}`);
    await send(
      contract.topic,
      ids.map((id, i) => ({ key: id, value: ping(id), partition: i % 4 })),
    );
    await waitFor('every record to be handled and committed', async () => handled.length >= ids.length && (await caughtUp(group, contract.topic)));
    expect(handled.map((h) => h.id).sort()).toEqual([...ids].sort());
    for (const { context, batch } of contexts) {
      expect(context).toMatchObject({ topic: contract.topic, groupId: group, partition: batch[0].partition, size: batch.length, firstOffset: batch[0].offset });
      expect(context.lastOffset).toBe(batch[batch.length - 1].offset);
    }
    for (const by of ['a', 'b'] as const) {
      const partitions = new Set(handled.filter((h) => h.by === by).map((h) => h.partition));
      expect([...partitions].sort()).toEqual([...assignments[by]].sort());
    }

    await closeApp(b);
    await waitFor('the remaining instance to own every partition', () => assignments.a.length === 4, { timeoutMs: 60_000 });
    const later = Array.from({ length: 20 }, (_, i) => `q${i}`);
    await send(
      contract.topic,
      later.map((id, i) => ({ key: id, value: ping(id), partition: i % 4 })),
    );
    await waitFor(
      'the later records to be handled and committed',
      async () => handled.length >= ids.length + later.length && (await caughtUp(group, contract.topic)),
    );
    expect(handled.map((h) => h.id).sort()).toEqual([...ids, ...later].sort());
    expect(handled.filter((h) => later.includes(h.id)).every((h) => h.by === 'a')).toBe(true);
    await closeApp(a);
  });

  it('KafkaClient creates its contract’s topic, refuses a record that breaks the contract, and its records reach the handler', async () => {
    const contract = contractFor('client', 2);
    const group = groupFor('client');
    const producerRef = await Test.createTestingModule({
      imports: [KafkaModule.forRoot({ clientId: `it-kafka-client-${run}`, brokers: BROKERS })],
      providers: [KafkaPublisher, KafkaClient],
    }).compile();
    const producerApp = producerRef.createNestApplication(new FastifyAdapter(), { logger: false });
    await producerApp.init();
    try {
      const client = producerApp.get(KafkaClient);
      await expect(client.dispatch(contract, { key: 'k', value: { id: 'bad', n: -1 }, messageId: 'bad' })).rejects.toThrow(
        /refusing to send an invalid .* record \(bad\): n must not be less than 0/,
      );
      // Nest's emit: an observable that completes once Kafka acknowledged; the topic is created first.
      await lastValueFrom(
        client.emit(
          contract,
          [1, 2, 3].map((n) => ({ key: `k${n}`, value: { id: `c${n}`, n }, messageId: `client-${n}` })),
        ),
        {
          defaultValue: undefined,
        },
      );
      const described = await admin.fetchTopicMetadata({ topics: [contract.topic, contract.deadLetterTopic] });
      expect(Object.fromEntries(described.topics.map((t) => [t.name, t.partitions.length]))).toEqual({
        [contract.topic]: 2,
        [contract.deadLetterTopic]: 1,
      });
      const handled: ConsumedMessage<Ping>[] = [];
      await startApp(contract, group, (batch) => void handled.push(...batch));
      await waitFor('the three records handled', () => handled.length === 3);
      expect(handled.map((m) => m.messageId).sort()).toEqual(['client-1', 'client-2', 'client-3']);
    } finally {
      await producerApp.close();
    }
  });

  describe('while Kafka does not answer', () => {
    // A broker that accepts connections and never says a word: what a frozen Kafka looks like.
    let silent: NetServer;
    const sockets = new Set<Socket>();
    let brokers: string[];

    beforeAll(async () => {
      silent = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const address = silent.address();
      brokers = [`127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`];
    });

    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('starts at once, is not ready and says why, serves /metrics without waiting, and closes at once', async () => {
      const contract = topic(`it.kafka-server.${run}.away`, Ping, { partitions: 1 });
      const group = `it-kafka-server-${run}-away`;
      const unreachable = new Kafka({
        clientId: 'it-away',
        brokers,
        connectionTimeout: 500,
        requestTimeout: 1000,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      });
      const starting = Date.now();
      const app = await startApp(contract, group, () => undefined, { module: { brokers }, kafka: unreachable });
      expect(Date.now() - starting).toBeLessThan(5_000);

      expect(app.server.notReadyReason()).toMatch(new RegExp(`group ${group} has not joined`));
      expect(await readiness(app)).toBe('down');
      const scraping = Date.now();
      await expect(metricsRegistry.metrics()).resolves.toContain('# TYPE kafka_consumer_lag gauge');
      expect(Date.now() - scraping).toBeLessThan(3_000);

      const closing = Date.now();
      await closeApp(app);
      expect(Date.now() - closing).toBeLessThan(3_000);
      // Closed: the consumers leaving must not turn readiness down (shutdown is reported by the app itself).
      expect(app.server.notReadyReason()).toBeUndefined();
    });
  });
});
