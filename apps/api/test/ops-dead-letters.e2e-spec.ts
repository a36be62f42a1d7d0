import 'reflect-metadata';
import amqp, { ChannelModel, ConfirmChannel } from 'amqplib';
import { Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { Exchanges, ItemChangedRoutingKey, QueueContracts, Queues, SagaQueues, SagaRoutingKeys, TopicContracts } from '@app/contracts';
import { createKafka, DeadLetterHeaders } from '@app/messaging';
import { appUrl, E2E_PORT_BASE, ExtraApp, killApp, startApp, startExtraApp, waitFor, waitReady } from '@app/testing';
import { admin, call, registerUser, unique } from './support/commerce';

jest.setTimeout(300_000);

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const MAILDEV_URL = 'http://127.0.0.1:1080';

const STOCK_DLQ = TopicContracts.StockEvents.deadLetterTopic;
const ACCOUNT_SAGA_DLQ = `${SagaQueues.Account}.dlq`;
const MAIL_DLQ = `${Queues.MailSend}.dlq`;
const ITEM_CHANGED_DLQ = `${QueueContracts.ApiItemChanged.name}.dlq`;

interface Listed {
  name: string;
  source: string;
  transport: 'kafka' | 'rabbitmq';
  count: number;
  oldestAt: string | null;
}

interface Message {
  id: string;
  reason: string;
  deadLetteredAt: string;
  source: string;
  payload: unknown;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('dead letters: list, inspect, replay (e2e)', () => {
  let token: string;
  let connection: ChannelModel;
  let channel: ConfirmChannel;
  let producer: Producer;
  const extras: ExtraApp[] = [];
  /** Payload markers of this run's RabbitMQ poison, taken off their dead-letter queues at the end. */
  const leftovers: { queue: string; marker: string }[] = [];

  beforeAll(async () => {
    token = await admin();
    connection = await amqp.connect(RABBITMQ_URL);
    channel = await connection.createConfirmChannel();
    producer = createKafka({ clientId: `ops-dlq-e2e-${randomUUID().slice(0, 8)}`, brokers: KAFKA_BROKERS }).producer();
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(extras.map((app) => app.stop()));
    for (const { queue, marker } of leftovers) await takeOff(queue, marker).catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    const mailerUp = await fetch(`${appUrl('mailer')}/health/live`)
      .then((r) => r.ok)
      .catch(() => false);
    if (!mailerUp) startApp('mailer');
    await waitReady('mailer', 180_000);
  });

  const list = async (): Promise<Listed[]> => {
    const reply = await call('GET', '/v1/ops/dead-letters', { token });
    if (reply.status !== 200) throw new Error(`list: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.queues;
  };
  const inspect = async (name: string, limit = 500): Promise<Message[]> => {
    const reply = await call('GET', `/v1/ops/dead-letters/${name}?limit=${limit}`, { token });
    if (reply.status !== 200) throw new Error(`inspect ${name}: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.messages;
  };
  const replay = (name: string, body: unknown, base = appUrl('api')) =>
    fetch(`${base}/v1/ops/dead-letters/${name}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { replayed: number; skipped?: string[] } }));
  const waitForMessages = (name: string, match: (m: Message) => boolean, count = 1) =>
    waitFor(
      `${count} matching message(s) in ${name}`,
      async () => {
        const found = (await inspect(name)).filter(match);
        return found.length >= count ? found : false;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  const hasMarker = (marker: string) => (m: Message) => JSON.stringify(m.payload).includes(marker);

  /** Publishes `body` on the commerce exchange with `routingKey`, as a broken producer would, and waits for the confirm. */
  const publish = async (routingKey: string, body: string) => {
    channel.publish(Exchanges.Commerce, routingKey, Buffer.from(body), { persistent: true, contentType: 'application/json', messageId: randomUUID() });
    await channel.waitForConfirms();
  };

  /** Takes this run's copies (payload containing `marker`) off `queue`, leaving every other message there. */
  const takeOff = async (queue: string, marker: string) => {
    const ch = await connection.createChannel();
    try {
      for (let m = await ch.get(queue); m; m = await ch.get(queue)) if (m.content.toString().includes(marker)) ch.ack(m);
      ch.nackAll(true);
    } finally {
      await ch.close().catch(() => undefined);
    }
  };

  it('lists every dead-letter topic and queue of the topology, also the empty ones; admin or ops only', async () => {
    const expected = [
      ...Object.values(TopicContracts).map((t) => ({ name: t.deadLetterTopic, source: t.topic, transport: 'kafka' })),
      ...Object.values(QueueContracts)
        .filter((q) => q.kind !== 'rpc')
        .map((q) => ({ name: `${q.name}.dlq`, source: q.name, transport: 'rabbitmq' })),
    ];
    const queues = await list();
    expect(queues.map(({ name, source, transport }) => ({ name, source, transport }))).toEqual(expected);
    for (const q of queues) {
      expect(Number.isInteger(q.count) && q.count >= 0).toBe(true);
      if (q.count === 0) expect(q.oldestAt).toBeNull();
      else expect(q.oldestAt).toMatch(ISO);
    }

    expect((await call('GET', '/v1/ops/dead-letters')).status).toBe(401);
    const user = await registerUser('dlq-user');
    for (const [method, path] of [
      ['GET', '/v1/ops/dead-letters'],
      ['GET', `/v1/ops/dead-letters/${STOCK_DLQ}`],
      ['POST', `/v1/ops/dead-letters/${STOCK_DLQ}/replay`],
    ]) {
      expect((await call(method, path, { token: user.token, body: method === 'POST' ? {} : undefined })).status).toBe(403);
      expect((await call(method, path, { body: method === 'POST' ? {} : undefined })).status).toBe(401);
    }
  });

  it('answers 404 for an unknown name and 400 for a bad limit or bad ids, with messages that say what to send', async () => {
    const unknown = await call('GET', '/v1/ops/dead-letters/no-such.dlq', { token });
    expect(unknown).toMatchObject({ status: 404, body: { statusCode: 404, message: expect.stringContaining(STOCK_DLQ) } });
    expect((await call('POST', '/v1/ops/dead-letters/no-such.dlq/replay', { token, body: {} })).status).toBe(404);

    for (const limit of ['0', '501', 'ten', '1.5']) {
      const reply = await call('GET', `/v1/ops/dead-letters/${STOCK_DLQ}?limit=${limit}`, { token });
      expect(reply).toMatchObject({ status: 400, body: { message: expect.stringMatching(/limit must be an integer from 1 to 500/) } });
    }
    expect((await call('GET', `/v1/ops/dead-letters/${STOCK_DLQ}?limit=1`, { token })).status).toBe(200);

    const bad: [unknown, RegExp][] = [
      [{ ids: 'all' }, /ids must be an array/],
      [{ ids: [] }, /at least one message; leave ids out/],
      [{ ids: [42] }, /each id must be a string/],
      [{ ids: ['x'.repeat(201)] }, /1–200 characters/],
      [{ ids: ['not-an-offset'] }, /<partition>-<offset>/],
      [{ everything: true }, /should not exist/],
    ];
    for (const [body, message] of bad) {
      const reply = await replay(STOCK_DLQ, body);
      expect(reply).toMatchObject({ status: 400, body: { message: expect.stringMatching(message) } });
    }
  });

  it('Kafka: a poison record produced to stock.events.v1 is listed and inspected with its reason; replayed, it leaves the list, reaches its topic again and, still poison, comes back', async () => {
    const marker = unique('poison');
    const text = `{ "broken": "${marker}"`;
    await producer.send({
      topic: TopicContracts.StockEvents.topic,
      acks: -1,
      messages: [{ key: `store-1/${marker}`, value: text, headers: { 'message-id': marker } }],
    });

    const [dead] = await waitForMessages(STOCK_DLQ, (m) => m.payload === text);
    expect(dead).toEqual({
      id: expect.stringMatching(/^\d+-\d+$/),
      reason: expect.stringMatching(/^not JSON/),
      deadLetteredAt: expect.stringMatching(ISO),
      source: TopicContracts.StockEvents.topic,
      payload: text,
    });
    expect(Date.now() - Date.parse(dead.deadLetteredAt)).toBeLessThan(120_000);
    const listed = (await list()).find((q) => q.name === STOCK_DLQ)!;
    expect(listed.count).toBeGreaterThanOrEqual(1);
    expect(Date.parse(listed.oldestAt!)).toBeLessThanOrEqual(Date.parse(dead.deadLetteredAt));

    // Inspecting changes nothing: the same messages, in the same order.
    const first = (await inspect(STOCK_DLQ)).map((m) => m.id);
    expect((await inspect(STOCK_DLQ)).map((m) => m.id)).toEqual(first);

    expect(await replay(STOCK_DLQ, { ids: [dead.id] })).toEqual({ status: 202, body: { replayed: 1 } });
    // Gone from the list at once; it went back to stock.events.v1, failed again, and is a new dead letter.
    expect((await inspect(STOCK_DLQ)).map((m) => m.id)).not.toContain(dead.id);
    const [back] = await waitForMessages(STOCK_DLQ, (m) => m.payload === text && m.id !== dead.id);
    expect(back).toMatchObject({ reason: dead.reason, source: dead.source });
    const [partition, offset] = back.id.split('-').map(BigInt);
    expect(partition).toBe(BigInt(dead.id.split('-')[0]));
    expect(offset).toBeGreaterThan(BigInt(dead.id.split('-')[1]));

    // A replayed id is not replayed twice.
    expect(await replay(STOCK_DLQ, { ids: [dead.id] })).toEqual({ status: 202, body: { replayed: 0, skipped: [dead.id] } });
  });

  it('Kafka: a message whose cause is gone is processed when replayed, and one that already took effect changes nothing', async () => {
    // Dead-lettered by an older consumer that refused it (twice, as after a redelivery); today's process takes it.
    const sku = unique('SKU-REPLAY');
    const event = { storeId: 'store-1', eventId: unique('ev'), sku, type: 'delivery', quantity: 7, occurredAt: '2024-03-01T10:00:00.000Z' };
    const value = JSON.stringify(event);
    const copy = {
      key: `store-1/${sku}`,
      value,
      headers: {
        'message-id': event.eventId,
        [DeadLetterHeaders.Reason]: 'invalid StockEventMessage: refused by an older consumer',
        [DeadLetterHeaders.OriginalTopic]: TopicContracts.StockEvents.topic,
        [DeadLetterHeaders.At]: new Date().toISOString(),
      },
    };
    await producer.send({ topic: STOCK_DLQ, acks: -1, messages: [copy, copy] });
    const copies = await waitForMessages(STOCK_DLQ, (m) => m.payload !== null && (m.payload as { sku?: string }).sku === sku, 2);
    expect(copies[0]).toMatchObject({ reason: 'invalid StockEventMessage: refused by an older consumer', payload: event });
    expect((await call('GET', `/v1/stores/store-1/stock/${sku}`)).status).toBe(404);

    expect(await replay(STOCK_DLQ, { ids: [copies[0].id] })).toEqual({ status: 202, body: { replayed: 1 } });
    const level = await waitFor(
      'the replayed delivery to be applied',
      async () => {
        const reply = await call('GET', `/v1/stores/store-1/stock/${sku}`);
        return reply.status === 200 ? reply.body : false;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(level).toMatchObject({ storeId: 'store-1', sku, quantity: 7 });

    // The second copy is the same event: replayed, it is consumed again and counts once.
    expect(await replay(STOCK_DLQ, { ids: [copies[1].id] })).toEqual({ status: 202, body: { replayed: 1 } });
    expect((await inspect(STOCK_DLQ)).filter((m) => (m.payload as { sku?: string } | null)?.sku === sku)).toEqual([]);
    await waitForGroupPast(sku);
    expect((await call('GET', `/v1/stores/store-1/stock/${sku}`)).body.quantity).toBe(7);
  });

  /** Waits until process has committed past everything now on stock.events.v1 (so the second copy was consumed). */
  const waitForGroupPast = async (sku: string) => {
    const kafka = createKafka({ clientId: `ops-dlq-e2e-admin-${randomUUID().slice(0, 8)}`, brokers: KAFKA_BROKERS });
    const adminClient = kafka.admin();
    await adminClient.connect();
    try {
      const ends = await adminClient.fetchTopicOffsets(TopicContracts.StockEvents.topic);
      await waitFor(
        `process to consume the replayed copy of ${sku}`,
        async () => {
          const [committed] = await adminClient.fetchOffsets({ groupId: 'process', topics: [TopicContracts.StockEvents.topic] });
          return ends.every((e) => BigInt(committed.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1') >= BigInt(e.high));
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    } finally {
      await adminClient.disconnect();
    }
  };

  it('Kafka: two api instances replaying the same id at once produce it once', async () => {
    const other = startExtraApp('api', E2E_PORT_BASE + 21);
    extras.push(other);
    await other.ready();
    const marker = unique('twice');
    const text = `not json at all ${marker}`;
    await producer.send({ topic: TopicContracts.StockEvents.topic, acks: -1, messages: [{ key: `store-1/${marker}`, value: text }] });
    const [dead] = await waitForMessages(STOCK_DLQ, (m) => m.payload === text);

    const replies = await Promise.all([
      replay(STOCK_DLQ, { ids: [dead.id] }),
      replay(STOCK_DLQ, { ids: [dead.id] }, other.url),
      replay(STOCK_DLQ, { ids: [dead.id] }),
      replay(STOCK_DLQ, { ids: [dead.id] }, other.url),
    ]);
    expect(replies.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    expect(replies.reduce((sum, r) => sum + r.body.replayed, 0)).toBe(1);
    // It came back once (poison), as one new dead letter.
    await waitForMessages(STOCK_DLQ, (m) => m.payload === text && m.id !== dead.id);
    expect((await inspect(STOCK_DLQ)).filter((m) => m.payload === text)).toHaveLength(1);
  });

  it('RabbitMQ: invalid messages published to account.saga are listed and inspected in order, inspection keeps them, and replay (by id, then all) sends them back', async () => {
    const marker = unique('saga-poison');
    leftovers.push({ queue: ACCOUNT_SAGA_DLQ, marker });
    const bodies = [1, 2, 3].map((n) => JSON.stringify({ purchaseId: 42, marker, n }));
    for (const body of bodies) await publish(SagaRoutingKeys.StockReserved, body);

    const dead = await waitForMessages(ACCOUNT_SAGA_DLQ, hasMarker(marker), 3);
    expect(dead.map((m) => (m.payload as { n: number }).n)).toEqual([1, 2, 3]);
    for (const m of dead) {
      expect(m).toMatchObject({
        source: SagaQueues.Account,
        reason: expect.stringMatching(/^invalid StockReserved: .*purchaseId/),
        deadLetteredAt: expect.stringMatching(ISO),
      });
      expect(m.id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const listed = (await list()).find((q) => q.name === ACCOUNT_SAGA_DLQ)!;
    expect(listed.count).toBeGreaterThanOrEqual(3);
    expect(listed.oldestAt).toMatch(ISO);
    // Inspected again and again: nothing lost, nothing reordered.
    const order = (await inspect(ACCOUNT_SAGA_DLQ)).map((m) => m.id);
    for (let i = 0; i < 3; i++) expect((await inspect(ACCOUNT_SAGA_DLQ)).map((m) => m.id)).toEqual(order);
    expect((await list()).find((q) => q.name === ACCOUNT_SAGA_DLQ)!.count).toBe(listed.count);

    // By id: only the second one goes; it reaches account.saga again, is still invalid, and comes back with a new id.
    expect(await replay(ACCOUNT_SAGA_DLQ, { ids: [dead[1].id, 'no-such-id'] })).toEqual({ status: 202, body: { replayed: 1, skipped: ['no-such-id'] } });
    const afterOne = await waitForMessages(ACCOUNT_SAGA_DLQ, hasMarker(marker), 3);
    expect(afterOne.map((m) => m.id)).not.toContain(dead[1].id);
    expect(afterOne.map((m) => (m.payload as { n: number }).n)).toEqual([1, 3, 2]);
    const others = order.filter((id) => id !== dead[1].id);
    expect((await inspect(ACCOUNT_SAGA_DLQ)).map((m) => m.id).filter((id) => others.includes(id))).toEqual(others);

    // All: everything the queue holds goes back once (what comes back while it runs waits for the next replay).
    const all = await replay(ACCOUNT_SAGA_DLQ, {});
    expect(all.status).toBe(202);
    expect(all.body.replayed).toBeGreaterThanOrEqual(3);
    const afterReplayAll = await waitForMessages(ACCOUNT_SAGA_DLQ, hasMarker(marker), 3);
    expect(afterReplayAll.map((m) => m.id).filter((id) => afterOne.some((m) => m.id === id))).toEqual([]);
  });

  it('RabbitMQ: two api instances replaying the same message at once send it back once', async () => {
    const other = extras[0] ?? startExtraApp('api', E2E_PORT_BASE + 21);
    if (!extras.includes(other)) extras.push(other);
    await other.ready();
    const marker = unique('saga-twice');
    leftovers.push({ queue: ACCOUNT_SAGA_DLQ, marker });
    await publish(SagaRoutingKeys.StockReserved, JSON.stringify({ marker }));
    const [dead] = await waitForMessages(ACCOUNT_SAGA_DLQ, hasMarker(marker));
    const replies = await Promise.all([replay(ACCOUNT_SAGA_DLQ, { ids: [dead.id] }), replay(ACCOUNT_SAGA_DLQ, { ids: [dead.id] }, other.url)]);
    expect(replies.reduce((sum, r) => sum + r.body.replayed, 0)).toBe(1);
    await waitForMessages(ACCOUNT_SAGA_DLQ, (m) => hasMarker(marker)(m) && m.id !== dead.id);
    expect((await inspect(ACCOUNT_SAGA_DLQ)).filter(hasMarker(marker))).toHaveLength(1);
  });

  it('RabbitMQ: a broadcast queue’s dead letter goes back through its exchange, to every api instance', async () => {
    const marker = unique('broadcast-poison');
    leftovers.push({ queue: ITEM_CHANGED_DLQ, marker });
    await publish(ItemChangedRoutingKey, JSON.stringify({ sku: 'not a sku!', marker }));
    const dead = await waitForMessages(ITEM_CHANGED_DLQ, hasMarker(marker));
    expect(dead[0]).toMatchObject({ source: 'api.item-changed', reason: expect.stringMatching(/^invalid ItemChanged/) });
    const ids = dead.map((m) => m.id);
    expect(await replay(ITEM_CHANGED_DLQ, { ids })).toEqual({ status: 202, body: { replayed: ids.length } });
    const back = await waitForMessages(ITEM_CHANGED_DLQ, (m) => hasMarker(marker)(m) && !ids.includes(m.id), ids.length);
    expect(back.length).toBeGreaterThanOrEqual(ids.length);
  });

  it('RabbitMQ: a mail dead-lettered while SMTP was down is sent when replayed after SMTP is back', async () => {
    const to = `${unique('dlq-mail')}@example.test`;
    // One mailer, whose SMTP server is away and whose retries run out at once.
    await killApp('mailer', 'SIGTERM');
    const broken = startExtraApp('mailer', E2E_PORT_BASE + 22, { SMTP_PORT: '1', MAIL_RETRY_DELAYS_MS: '100,100' });
    extras.push(broken);
    await waitFor('the mailer without SMTP to consume mail.send', () => broken.output().includes('consuming mail.send'), { timeoutMs: 60_000 });

    channel.sendToQueue(Queues.MailSend, Buffer.from(JSON.stringify({ to, kind: 'welcome', data: { name: 'Replayed' } })), {
      persistent: true,
      contentType: 'application/json',
      messageId: `welcome:${to}`,
    });
    await channel.waitForConfirms();
    const [dead] = await waitForMessages(MAIL_DLQ, (m) => (m.payload as { to?: string } | null)?.to === to);
    expect(dead.reason).toMatch(/MAIL\.SMTP_UNAVAILABLE.*after 3 attempt/);

    // SMTP is back: the usual mailer again.
    await broken.stop();
    startApp('mailer');
    await waitReady('mailer');
    expect(await replay(MAIL_DLQ, { ids: [dead.id] })).toEqual({ status: 202, body: { replayed: 1 } });
    await waitFor(
      `the replayed mail to reach ${to}`,
      async () => {
        const mails = (await fetch(`${MAILDEV_URL}/email`).then((r) => r.json())) as { to: { address: string }[]; subject: string }[];
        return mails.some((mail) => mail.to.some((t) => t.address === to));
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect((await inspect(MAIL_DLQ)).filter((m) => (m.payload as { to?: string } | null)?.to === to)).toEqual([]);
  });

  it('/metrics has the depth of every dead-letter queue and the lag of every consumer group', async () => {
    const text = await fetch(`${appUrl('api')}/metrics`).then((r) => r.text());
    for (const q of await list()) {
      expect(text).toMatch(new RegExp(`dead_letter_messages\\{[^}]*name="${q.name.replace(/\./g, '\\.')}"[^}]*transport="${q.transport}"[^}]*\\} \\d+`));
    }
    for (const group of ['process', 'api', 'mailer']) expect(text).toMatch(new RegExp(`ops_consumer_group_lag\\{[^}]*group="${group}"[^}]*\\} \\d+`));
  });
});
