import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'cassandra-driver';
import { createCassandraClient, loadMigrations, migrate } from '@app/cassandra';
import { StockEventMessage } from '@app/contracts';
import { ConsumedMessage } from '@app/messaging';
import { ProcessEnv } from '../config/process.env';
import { ApplyStockEventsService } from './apply-stock-events.service';
import { PartitionStates } from './partition-states';
import { StockEventsRepository } from './stock-events.repository';

jest.setTimeout(120_000);

const KEYSPACE = `stock_it_${randomUUID().slice(0, 8)}`;
const options = { contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1' };

function message(offset: number, e: Partial<StockEventMessage> & { eventId: string }): ConsumedMessage<StockEventMessage> {
  const value = Object.assign(new StockEventMessage(), {
    storeId: 's1',
    sku: 'A',
    type: 'delivery',
    quantity: 1,
    occurredAt: '2024-01-01T00:00:00.000Z',
    ...e,
  });
  return { topic: 't', partition: 0, offset: String(offset), key: `s1/${value.sku}`, value, messageId: e.eventId, correlationId: 'c' };
}

describe(`${StockEventsRepository.name} with ${ApplyStockEventsService.name} (real Cassandra)`, () => {
  let client: Client;
  let sut: ApplyStockEventsService;
  let owner: () => ApplyStockEventsService;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    const admin = createCassandraClient(options);
    await admin.connect();
    await migrate(admin, KEYSPACE, 1, loadMigrations(join(__dirname, '..', 'migrations')));
    await admin.shutdown();
    client = createCassandraClient(options, KEYSPACE);
    await client.connect();
    const env = Object.assign(new ProcessEnv(), { CASSANDRA_WRITE_CONCURRENCY: 32 });
    sut = new ApplyStockEventsService(new StockEventsRepository(client, env));
    owner = () => new ApplyStockEventsService(new StockEventsRepository(client, env), new PartitionStates(100_000));
  });

  afterAll(async () => {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`);
    await client?.shutdown();
  });

  const level = async (sku: string) =>
    (await client.execute('SELECT quantity, updated_at FROM stock_levels WHERE store_id = ? AND sku = ?', ['s1', sku], { prepare: true })).first();

  it('applies out-of-order counts and duplicates, and a replay changes nothing (updatedAt included)', async () => {
    const at = (m: number) => new Date(Date.UTC(2024, 0, 1, 0, m)).toISOString();
    const log = [
      message(0, { eventId: 's2', type: 'sale', quantity: 3, occurredAt: at(30) }),
      message(1, { eventId: 'd1', type: 'delivery', quantity: 100, occurredAt: at(0) }),
      message(2, { eventId: 'c1', type: 'count', quantity: 40, occurredAt: at(20) }),
      message(3, { eventId: 's2', type: 'sale', quantity: 3, occurredAt: at(30) }),
      message(4, { eventId: 'a1', type: 'adjustment', quantity: -2, occurredAt: at(25) }),
      message(5, { eventId: 'x1', sku: 'B', type: 'sale', quantity: 1, occurredAt: at(1) }),
    ];
    await sut.applyBatch(log.slice(0, 2));
    expect((await level('A'))!.get('quantity').toNumber()).toBe(97);
    await sut.applyBatch(log.slice(2));
    const first = await level('A');
    expect(first!.get('quantity').toNumber()).toBe(35);
    expect((await level('B'))!.get('quantity').toNumber()).toBe(-1);

    await sut.applyBatch(log); // replay from the earliest offset
    const again = await level('A');
    expect(again!.get('quantity').toNumber()).toBe(35);
    expect(again!.get('updated_at')).toEqual(first!.get('updated_at'));

    // the same events re-sent later (a new upload: new offsets) count once
    await sut.applyBatch(log.map((m, i) => ({ ...m, offset: String(100 + i) })));
    expect((await level('A'))!.get('quantity').toNumber()).toBe(35);
  });

  it('writes a key with more new events than fit in one batch', async () => {
    const log = Array.from({ length: 500 }, (_, i) => message(1000 + i, { eventId: `many-${i}`, sku: 'MANY', quantity: 2 }));
    await sut.applyBatch(log);
    expect((await level('MANY'))!.get('quantity').toNumber()).toBe(1000);
  });

  it('a former owner resuming with a stale memory (a zombie) cannot overwrite the newer level: writes are stamped by offset', async () => {
    const a = owner();
    const b = owner();
    const delivery = (offset: number, n: number) => message(offset, { eventId: `z-${offset}`, sku: 'ZOMBIE', quantity: n });
    await a.applyBatch([delivery(2000, 10)]); // A owns the partition and knows the key at 10
    await b.applyBatch([delivery(2000, 10), delivery(2001, 5), delivery(2002, 7)]); // the partition moved to B: 22
    await a.applyBatch([delivery(2001, 5)]); // A resumes with the batch it held: from its memory, 15
    expect((await level('ZOMBIE'))!.get('quantity').toNumber()).toBe(22);
    const state = await client.execute("SELECT level, applied_offset FROM stock_events WHERE store_id = 's1' AND sku = 'ZOMBIE' AND event_id = ''");
    expect([state.first().get('level').toNumber(), state.first().get('applied_offset').toNumber()]).toEqual([22, 2002]);
  });

  it('remembers every stored event of a key, over several pages, so a late duplicate never counts twice', async () => {
    const log = Array.from({ length: 6_000 }, (_, i) => message(10_000 + i, { eventId: `paged-${i}`, sku: 'PAGED' }));
    for (let i = 0; i < log.length; i += 2_000) await sut.applyBatch(log.slice(i, i + 2_000));
    const fresh = owner(); // a new owner reads the key from Cassandra: 6,000 rows, more than one page
    await fresh.applyBatch([{ ...log[10], offset: '20000' }, message(20_001, { eventId: 'paged-new', sku: 'PAGED' })]);
    expect((await level('PAGED'))!.get('quantity').toNumber()).toBe(6_001);
  });
});
