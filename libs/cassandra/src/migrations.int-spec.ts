import { Client } from 'cassandra-driver';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCassandraClient } from './cassandra.module';
import { loadMigrations, migrate } from './migrations';

describe('Cassandra migrations (real Cassandra)', () => {
  const keyspace = `it_migrations_${Date.now().toString(36)}`;
  const options = { contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1' };
  let clients: Client[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    writeFileSync(join(dir, '001_items.cql'), 'CREATE TABLE IF NOT EXISTS {keyspace}.items (sku text PRIMARY KEY, qty int);\n');
    writeFileSync(join(dir, '002_more.cql'), 'CREATE TABLE IF NOT EXISTS {keyspace}.more (id text PRIMARY KEY);\n');
    clients = [createCassandraClient(options), createCassandraClient(options), createCassandraClient(options)];
    await Promise.all(clients.map((c) => c.connect()));
  }, 60_000);

  afterAll(async () => {
    await clients[0].execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    await Promise.all(clients.map((c) => c.shutdown()));
  });

  it('three instances starting at once apply each migration once and none fails', async () => {
    const migrations = loadMigrations(dir);
    const applied = await Promise.all(clients.map((c) => migrate(c, keyspace, 1, migrations)));

    expect(applied.reduce((a, b) => a + b, 0)).toBe(2);
    const rows = await clients[0].execute(`SELECT version, name FROM ${keyspace}.schema_migrations`);
    expect(rows.rows.map((r) => r.get('version') as number).sort()).toEqual([1, 2]);
  }, 120_000);

  it('applying again changes nothing', async () => {
    const before = await clients[0].execute(`SELECT version, applied_at FROM ${keyspace}.schema_migrations`);
    expect(await migrate(clients[1], keyspace, 1, loadMigrations(dir))).toBe(0);
    const after = await clients[0].execute(`SELECT version, applied_at FROM ${keyspace}.schema_migrations`);
    expect(after.rows.map((r) => String(r.get('applied_at')))).toEqual(before.rows.map((r) => String(r.get('applied_at'))));
  }, 60_000);
});
