import { Readable } from 'node:stream';
import { readCsv, readNdjson, splitCsvLine } from './event-readers';

async function all<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of source) items.push(item);
  return items;
}
const body = (text: string, chunk = 7) =>
  Readable.from(Array.from({ length: Math.ceil(text.length / chunk) }, (_, i) => Buffer.from(text.slice(i * chunk, (i + 1) * chunk))));

describe('event readers', () => {
  it('numbers CSV data lines from 1, skips blank lines without renumbering, and reads CRLF and quotes', async () => {
    const csv = 'eventId,sku,type,quantity,occurredAt\r\na,S,sale,1,T\r\n\r\n"b,1",S,sale,2,T\r\nonly,three,fields\r\n';
    expect(await all(readCsv(body(csv)))).toEqual([
      { index: 1, value: { eventId: 'a', sku: 'S', type: 'sale', quantity: '1', occurredAt: 'T' } },
      { index: 3, value: { eventId: 'b,1', sku: 'S', type: 'sale', quantity: '2', occurredAt: 'T' } },
      { index: 4, error: 'expected 5 fields (eventId,sku,type,quantity,occurredAt), got 3' },
    ]);
  });

  it('refuses a CSV without the exact header', async () => {
    await expect(all(readCsv(body('id,sku\n')))).rejects.toThrow(/header must be exactly/);
  });

  it('numbers NDJSON lines from 0 and reports a line that is not JSON', async () => {
    expect(await all(readNdjson(body('{"a":1}\n{oops\n')))).toEqual([
      { index: 0, value: { a: 1 } },
      { index: 1, error: expect.stringContaining('line is not valid JSON') },
    ]);
  });

  it('stops at 50,000 events and at 10 MiB', async () => {
    await expect(all(readNdjson(Readable.from(['{}\n'.repeat(50_001)])))).rejects.toMatchObject({ kind: 'too_large' });
    await expect(all(readNdjson(Readable.from([Buffer.alloc(11 * 1024 * 1024, 0x20)])))).rejects.toMatchObject({ kind: 'too_large' });
  });

  it('splits quoted CSV fields', () => {
    expect(splitCsvLine('"a ""b""",c')).toEqual(['a "b"', 'c']);
    expect(splitCsvLine('"open,c')).toMatch(/unterminated/);
  });
});
