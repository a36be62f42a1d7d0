import { summarizeStatement } from './cassandra-tracing';

describe(summarizeStatement.name, () => {
  it('names the operation and the table, with the client keyspace unless the statement names one', () => {
    expect(summarizeStatement('SELECT * FROM purchases WHERE purchase_id = ?', 'account')).toEqual({
      operation: 'SELECT',
      namespace: 'account',
      collection: 'purchases',
    });
    expect(summarizeStatement('insert into stock.levels (store_id, sku) values (?, ?) IF NOT EXISTS')).toEqual({
      operation: 'INSERT',
      namespace: 'stock',
      collection: 'levels',
    });
    expect(summarizeStatement('UPDATE items SET quantity = ? WHERE sku = ? IF quantity = ?', 'shop')).toMatchObject({
      operation: 'UPDATE',
      collection: 'items',
    });
    expect(summarizeStatement('DELETE FROM "Mail_Claims" WHERE id = ?', 'mailer')).toMatchObject({ operation: 'DELETE', collection: 'Mail_Claims' });
    expect(summarizeStatement('CREATE TABLE IF NOT EXISTS account.schema_lock (id text PRIMARY KEY)')).toMatchObject({
      operation: 'CREATE',
      namespace: 'account',
      collection: 'schema_lock',
    });
    expect(summarizeStatement('SELECT updated_at FROM shop.items', 'x')).toMatchObject({ collection: 'items', namespace: 'shop' });
  });

  it('never carries a value written into the statement', () => {
    const summary = summarizeStatement("INSERT INTO users (id, email) VALUES ('u-1', 'someone@example.com')", 'account');
    expect(JSON.stringify(summary)).not.toMatch(/u-1|someone/);
    expect(summarizeStatement("  wat 'secret'", 'account')).toEqual({ operation: 'QUERY', namespace: 'account', collection: undefined });
  });
});
