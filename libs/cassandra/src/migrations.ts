import { Logger } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One versioned file `NNN_name.cql`; statements are separated by `;` at the end of a line. */
export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

const FILE = /^(\d{3,})_([a-z0-9_-]+)\.cql$/;

export function loadMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((file) => FILE.test(file))
    .sort()
    .map((file) => {
      const [, version, name] = FILE.exec(file)!;
      const text = readFileSync(join(dir, file), 'utf8');
      const statements = text
        .split('\n')
        .filter((line) => !line.trim().startsWith('--'))
        .join('\n')
        .split(/;\s*(?:\n|$)/)
        .map((s) => s.trim())
        .filter(Boolean);
      return { version: Number(version), name, checksum: createHash('sha256').update(text).digest('hex'), statements };
    });
}

const LOCK_TTL_SECONDS = 120;

/**
 * Applies the pending migrations of one keyspace. Safe to run from several instances at once:
 * a lightweight-transaction lock lets one apply while the others wait for it, and every
 * statement is written to be idempotent (IF NOT EXISTS), so a crash half-way is repaired by
 * the next start.
 */
export async function migrate(
  client: Client,
  keyspace: string,
  replicationFactor: number,
  migrations: Migration[],
  logger = new Logger('CassandraMigrations'),
): Promise<number> {
  await client.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ` + `{'class': 'SimpleStrategy', 'replication_factor': ${replicationFactor}}`,
  );
  await client.execute(
    `CREATE TABLE IF NOT EXISTS ${keyspace}.schema_migrations ` + `(version int PRIMARY KEY, name text, checksum text, applied_at timestamp)`,
  );
  await client.execute(`CREATE TABLE IF NOT EXISTS ${keyspace}.schema_lock (id text PRIMARY KEY, owner text)`);

  const owner = randomUUID();
  const deadline = Date.now() + LOCK_TTL_SECONDS * 1000;
  for (;;) {
    const applied = await appliedVersions(client, keyspace);
    const pending = migrations.filter((m) => !applied.has(m.version));
    if (pending.length === 0) return 0;

    const lock = await client.execute(
      `INSERT INTO ${keyspace}.schema_lock (id, owner) VALUES ('migrate', ?) IF NOT EXISTS USING TTL ${LOCK_TTL_SECONDS}`,
      [owner],
      { prepare: true, serialConsistency: types.consistencies.localSerial },
    );
    if (!lock.wasApplied()) {
      if (Date.now() > deadline) throw new Error(`migrations of ${keyspace}: the lock held by another instance never cleared`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    try {
      for (const migration of pending) {
        for (const statement of migration.statements) await client.execute(statement.replaceAll('{keyspace}', keyspace));
        await client.execute(
          `INSERT INTO ${keyspace}.schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, toTimestamp(now()))`,
          [migration.version, migration.name, migration.checksum],
          { prepare: true },
        );
        logger.log(`applied ${keyspace} migration ${migration.version} ${migration.name}`);
      }
      return pending.length;
    } finally {
      await client.execute(`DELETE FROM ${keyspace}.schema_lock WHERE id = 'migrate' IF owner = ?`, [owner], {
        prepare: true,
      });
    }
  }
}

async function appliedVersions(client: Client, keyspace: string): Promise<Set<number>> {
  const rows = await client.execute(`SELECT version FROM ${keyspace}.schema_migrations`);
  return new Set(rows.rows.map((row) => row.get('version') as number));
}
