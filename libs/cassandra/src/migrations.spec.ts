import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMigrations } from './migrations';

describe(loadMigrations.name, () => {
  it('orders files by version and splits statements, skipping comments and other files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    writeFileSync(join(dir, '002_second.cql'), 'CREATE TABLE IF NOT EXISTS {keyspace}.b (id int PRIMARY KEY);\n');
    writeFileSync(
      join(dir, '001_first.cql'),
      '-- a comment; with a semicolon\nCREATE TABLE IF NOT EXISTS {keyspace}.a (\n  id int PRIMARY KEY\n);\n\nCREATE INDEX IF NOT EXISTS a_idx ON {keyspace}.a (id);\n',
    );
    writeFileSync(join(dir, 'README.md'), 'not a migration');

    const sut = loadMigrations(dir);

    expect(sut.map((m) => [m.version, m.name, m.statements.length])).toEqual([
      [1, 'first', 2],
      [2, 'second', 1],
    ]);
    expect(sut[0].statements[0]).toBe('CREATE TABLE IF NOT EXISTS {keyspace}.a (\n  id int PRIMARY KEY\n)');
  });
});
