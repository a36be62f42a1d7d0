import { Readable, Transform, TransformCallback } from 'node:stream';
import { createInterface } from 'node:readline';
import { DomainError, StockErrorCodes } from '@app/contracts';

export const MAX_BODY_BYTES = 10 * 1024 * 1024;
export const MAX_EVENTS = 50_000;
export const CSV_HEADER = 'eventId,sku,type,quantity,occurredAt';
const CSV_FIELDS = CSV_HEADER.split(',');

/** One event as read from the body: its position for the rejected list, and either a value or a parse error. */
export type RawEvent = { index: number; value: unknown; error?: undefined } | { index: number; value?: undefined; error: string };

export const tooLarge = (what: string) =>
  new DomainError(StockErrorCodes.BodyTooLarge, 'too_large', `The request is too large: ${what}. Split the upload into several requests.`);
const tooManyEvents = () => tooLarge(`more than ${MAX_EVENTS.toLocaleString('en')} events`);

/** Fails the stream as soon as more than `limit` bytes went through, whatever Content-Length said. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) done(tooLarge('the body is over 10 MiB'));
    else done(null, chunk);
  }
}

function lines(body: Readable): AsyncIterable<string> {
  const limited = body.pipe(new ByteLimit(MAX_BODY_BYTES));
  body.on('error', (error) => limited.destroy(error));
  return createInterface({ input: limited, crlfDelay: Infinity });
}

/** NDJSON: one event per line; `index` is the 0-based line number (blank lines are skipped, not renumbered). */
export async function* readNdjson(body: Readable): AsyncGenerator<RawEvent> {
  let index = -1;
  let count = 0;
  for await (const line of lines(body)) {
    index++;
    if (line.trim() === '') continue;
    if (++count > MAX_EVENTS) throw tooManyEvents();
    try {
      yield { index, value: JSON.parse(line) };
    } catch (error) {
      yield { index, error: `line is not valid JSON: ${(error as Error).message}` };
    }
  }
}

/** Splits one CSV line; fields may be quoted ("a,b" and "" for a quote). */
export function splitCsvLine(line: string): string[] | string {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote < 0) return `unterminated quoted field at column ${i}`;
        field += line.slice(i, quote);
        i = quote + 1;
        if (line[i] === '"') {
          field += '"';
          i++;
        } else break;
      }
      if (i < line.length && line[i] !== ',') return `unexpected character after a quoted field at column ${i + 1}`;
    } else {
      const comma = line.indexOf(',', i);
      field = comma < 0 ? line.slice(i) : line.slice(i, comma);
      i = comma < 0 ? line.length : comma;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

/** CSV with API.md's exact header; `index` is the 1-based data line number (the header is not counted). */
export async function* readCsv(body: Readable): AsyncGenerator<RawEvent> {
  let index = -1;
  let count = 0;
  for await (const raw of lines(body)) {
    index++;
    if (index === 0) {
      const header = raw.replace(/^\uFEFF/, '').trim();
      if (header !== CSV_HEADER) {
        throw new DomainError(StockErrorCodes.BadCsvHeader, 'invalid', `The CSV header must be exactly "${CSV_HEADER}" (line 1 is "${header.slice(0, 100)}").`);
      }
      continue;
    }
    if (raw.trim() === '') continue;
    if (++count > MAX_EVENTS) throw tooManyEvents();
    const fields = splitCsvLine(raw);
    if (typeof fields === 'string') {
      yield { index, error: `line ${index + 1} is not valid CSV: ${fields}` };
    } else if (fields.length !== CSV_FIELDS.length) {
      yield { index, error: `expected ${CSV_FIELDS.length} fields (${CSV_HEADER}), got ${fields.length}` };
    } else {
      yield { index, value: { eventId: fields[0], sku: fields[1], type: fields[2], quantity: fields[3], occurredAt: fields[4] } };
    }
  }
  if (index < 0) throw new DomainError(StockErrorCodes.EmptyBody, 'invalid', `The CSV body is empty; send the header "${CSV_HEADER}" and one event per line.`);
}

/** JSON: an array of events or `{ "events": [...] }`, already parsed by Fastify (bounded by its 10 MiB body limit). */
export function* readJson(body: unknown): Generator<RawEvent> {
  const events = Array.isArray(body) ? body : (body as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) {
    throw new DomainError(StockErrorCodes.BadJsonBody, 'invalid', 'The JSON body must be an array of events or an object { "events": [ ... ] }.');
  }
  if (events.length > MAX_EVENTS) throw tooManyEvents();
  for (let index = 0; index < events.length; index++) yield { index, value: events[index] };
}

/** "The JSON body cannot be parsed at line 3, column 14: Unexpected token ..." */
export function describeJsonError(text: string, error: Error): string {
  const position = /position (\d+)/.exec(error.message);
  let where = '';
  if (position) {
    const at = Number(position[1]);
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    where = ` at line ${line}, column ${at - before.lastIndexOf('\n')}`;
  } else if (/end of (JSON )?input/i.test(error.message)) {
    where = ' at its end (it is cut short)';
  }
  return `The JSON body cannot be parsed${where}: ${error.message}`;
}
