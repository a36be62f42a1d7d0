import 'reflect-metadata';
import { randomInt, randomUUID } from 'node:crypto';
import { Topics } from '@app/contracts';
import { createKafka } from '@app/messaging';
import {
  appUrl,
  expectedLevels,
  infra,
  itWhenControlledHere,
  killApp,
  levels as levelsOf,
  makeEvents,
  sendAllEvents as sendAllTo,
  sendEvents as sendTo,
  SentEvent,
  startApp,
  startExtraApp,
  waitFor,
  waitForLevels as waitForLevelsOf,
  waitReady,
} from '@app/testing';

jest.setTimeout(600_000);

const STORE = 'store-3';
const KEY = 'dev-key-store-3';
const target = { store: STORE, key: KEY };
const run = randomUUID().slice(0, 8);

const send = (events: SentEvent[]) => sendTo(target, events);
const sendAll = (events: SentEvent[]) => sendAllTo(target, events);
const levels = (prefix: string) => levelsOf(target, prefix);
const waitForLevels = (prefix: string, expected: Map<string, number>) => waitForLevelsOf(target, prefix, expected);

describe('stock pipeline under faults', () => {
  const prefix = `F-${run}-`;
  const skus = Array.from({ length: 400 }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
  const events = makeEvents(100_000, skus, run);
  // duplicates, sent again later (as a store resending part of an upload would)
  const resent = events.filter(() => randomInt(20) === 0);
  const expected = expectedLevels(events);

  afterAll(async () => {
    infra('resume', 'kafka');
    // leave the shared system as it was: process running and ready
    const alive = await fetch(`${appUrl('process')}/health/live`).then(
      () => true,
      () => false,
    );
    if (!alive) startApp('process');
    await waitReady('process');
  });

  it('every level equals the reference after kill -9 of process three times while 100,000 events are in flight', async () => {
    const sending = sendAll([...events, ...resent]);
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, randomInt(500, 4000)));
      await killApp('process', 'SIGKILL');
      startApp('process');
      await waitReady('process');
    }
    await sending;
    await waitForLevels(prefix, expected);
  });

  it('an instance frozen (SIGSTOP) past its session while another takes its partitions, then resumed (a zombie with a stale memory): every level exact', async () => {
    const zombiePrefix = `Z-${run}-`;
    const zombieSkus = Array.from({ length: 200 }, (_, i) => `${zombiePrefix}${String(i).padStart(3, '0')}`);
    const first = makeEvents(30_000, zombieSkus, `${run}-z1`);
    const second = makeEvents(30_000, zombieSkus, `${run}-z2`);
    const kafka = createKafka({ clientId: 'e2e-zombie', brokers: ['127.0.0.1:9092'] });
    const admin = kafka.admin();
    await admin.connect();
    const members = async () => (await admin.describeGroups(['process'])).groups[0].members.length;
    const other = startExtraApp('process', 4732);
    try {
      await other.ready();
      await waitFor('both instances to share the group', async () => (await members()) >= 2, { timeoutMs: 60_000, intervalMs: 500 });
      // Both own partitions and have read their keys into memory.
      await sendAll(first);
      await waitForLevels(zombiePrefix, expectedLevels(first));
      const sending = sendAll(second);
      process.kill(other.pid, 'SIGSTOP');
      try {
        // Past its 10 s session the group drops it, and the other instance takes its partitions and keys.
        await waitFor('the group to drop the frozen instance', async () => (await members()) === 1, { timeoutMs: 60_000, intervalMs: 500 });
        await sending;
        await waitForLevels(zombiePrefix, expectedLevels([...first, ...second]));
      } finally {
        process.kill(other.pid, 'SIGCONT');
      }
      // Resumed, it finishes what it held with what it remembered, then finds it was dropped and joins again.
      await waitFor('the resumed instance to join the group again', async () => (await members()) === 2, { timeoutMs: 90_000, intervalMs: 500 });
      await waitForLevels(zombiePrefix, expectedLevels([...first, ...second]));
      expect(other.alive()).toBe(true);
    } finally {
      await other.stop();
      await admin.disconnect();
    }
  });

  it('replaying the topic from the earliest offset changes nothing', async () => {
    const before = await levels(prefix);
    // A group of our own: other test runs on this Kafka keep members in `process`, and a group can
    // only be reset while it has none. Same code, same topic, same offsets.
    const group = `process-replay-${run}`;
    const kafka = createKafka({ clientId: 'e2e-replay', brokers: ['127.0.0.1:9092'] });
    const admin = kafka.admin();
    await admin.connect();
    const consumeToEnd = async () => {
      const ends = await admin.fetchTopicOffsets(Topics.StockEvents);
      await waitFor(
        `group ${group} to consume the whole topic`,
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId: group, topics: [Topics.StockEvents] });
          return ends.every((end) => BigInt(committed.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1') >= BigInt(end.high));
        },
        { timeoutMs: 300_000, intervalMs: 1000 },
      );
    };
    try {
      await killApp('process', 'SIGTERM');
      startApp('process', { STOCK_CONSUMER_GROUP: group });
      await waitReady('process');
      await consumeToEnd();
      expect(await levels(prefix)).toEqual(before);

      await killApp('process', 'SIGTERM');
      await waitFor(
        `the offsets of ${group} to reset to the earliest`,
        async () => {
          await admin.resetOffsets({ groupId: group, topic: Topics.StockEvents, earliest: true });
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
      startApp('process', { STOCK_CONSUMER_GROUP: group });
      await waitReady('process');
      await consumeToEnd();
      expect(await levels(prefix)).toEqual(before);
    } finally {
      await killApp('process', 'SIGTERM');
      startApp('process');
      await waitReady('process');
      await admin.deleteGroups([group]).catch(() => undefined);
      await admin.disconnect();
    }
  });

  itWhenControlledHere('kafka', 'Kafka')('answers 503 while Kafka is frozen, never 202, and recovers by itself', async () => {
    const s = `${prefix}kafka-down`;
    const event = (id: string, quantity: number): SentEvent => ({
      eventId: `${run}-${id}`,
      sku: s,
      type: 'delivery',
      quantity,
      occurredAt: new Date().toISOString(),
    });
    infra('pause', 'kafka');
    try {
      const response = await send([event('down-1', 1)]);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { message: string }).message).toMatch(/nothing from this request was accepted/);
    } finally {
      infra('resume', 'kafka');
    }
    await waitFor('ingest to accept again', async () => (await send([event('down-1', 1), event('up-2', 2)])).status === 202, {
      timeoutMs: 120_000,
      intervalMs: 1000,
    });
    await waitFor(
      `${s} to be 3`,
      async () => {
        const response = await fetch(`${appUrl('api')}/v1/stores/${STORE}/stock/${s}`);
        return response.ok && ((await response.json()) as { quantity: number }).quantity === 3;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });
});
