/**
 * Uploads a CSV or NDJSON file of stock events for one store, of any size:
 *   npm run upload -- --store store-1 --key KEY [--url http://127.0.0.1:3001] [--chunk 5000] [--concurrency 2] FILE
 * The file is read as a stream and sent in requests of at most --chunk events (and 8 MiB), a few at a
 * time; 503s, 429s and network errors are retried with backoff (safe: eventIds make resending idempotent).
 * Ends with a summary that lists every rejected line by its line number in FILE.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const CSV_HEADER = 'eventId,sku,type,quantity,occurredAt';
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

interface Chunk {
  firstLine: number; // file line number of the chunk's first event line
  lines: string[];
  lineNumbers: number[];
  bytes: number;
}

interface Rejection {
  line: number;
  eventId?: string;
  errors: string[];
}

function usage(message?: string): never {
  if (message) process.stderr.write(`upload: ${message}\n`);
  process.stderr.write('usage: npm run upload -- --store STORE --key KEY [--url URL] [--chunk N] [--concurrency N] FILE(.csv|.ndjson)\n');
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    store: { type: 'string' },
    key: { type: 'string' },
    url: { type: 'string', default: process.env.INGEST_URL ?? 'http://127.0.0.1:3001' },
    chunk: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '2' },
    retries: { type: 'string', default: '10' },
  },
});
const file = positionals[0];
if (!values.store || !values.key || !file) usage('--store, --key and FILE are required');
const chunkSize = Number(values.chunk);
if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 50_000) usage('--chunk must be 1–50000');
const concurrency = Math.max(1, Number(values.concurrency));
const maxRetries = Math.max(0, Number(values.retries));
const isCsv = /\.csv$/i.test(file);
const contentType = isCsv ? 'text/csv' : 'application/x-ndjson';
const endpoint = `${values.url}/v1/stores/${encodeURIComponent(values.store)}/stock-events`;
const totalBytes = statSync(file).size;

let bytesRead = 0;
let accepted = 0;
let sentEvents = 0;
const rejected: Rejection[] = [];
const started = Date.now();

function progress(final = false): void {
  const fraction = totalBytes === 0 ? 1 : Math.min(1, bytesRead / totalBytes);
  const width = 30;
  const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '.');
  const seconds = (Date.now() - started) / 1000;
  const rate = Math.round(sentEvents / Math.max(seconds, 0.001));
  const line = `[${bar}] ${(fraction * 100).toFixed(1)}%  ${sentEvents} events  ${rate} events/s  ${rejected.length} rejected`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}${final ? '\n' : ''}`);
  else if (final) process.stderr.write(`${line}\n`);
}

async function sendChunk(chunk: Chunk): Promise<void> {
  const body = isCsv ? `${CSV_HEADER}\n${chunk.lines.join('\n')}\n` : `${chunk.lines.join('\n')}\n`;
  for (let attempt = 0; ; attempt++) {
    let status = 0;
    let payload: { accepted?: number; rejected?: { index: number; eventId?: string; errors: string[] }[]; message?: string } = {};
    let failure = '';
    try {
      const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': contentType, 'x-api-key': values.key! }, body });
      status = response.status;
      payload = (await response.json().catch(() => ({}))) as typeof payload;
      if (status === 202 || (status === 400 && Array.isArray(payload.rejected))) {
        accepted += payload.accepted ?? 0;
        for (const r of payload.rejected ?? []) {
          // CSV indexes are 1-based data lines, NDJSON indexes 0-based lines (blank lines keep their number).
          const position = isCsv ? r.index - 1 : r.index;
          rejected.push({ line: chunk.lineNumbers[position] ?? -1, eventId: r.eventId, errors: r.errors });
        }
        sentEvents += chunk.lines.length;
        return;
      }
      failure = `HTTP ${status}: ${payload.message ?? ''}`;
      if (status !== 503 && status !== 429 && status < 500)
        throw new Error(`the server refused lines ${chunk.firstLine}–${chunk.lineNumbers[chunk.lineNumbers.length - 1]}: ${failure}`);
    } catch (error) {
      if (status !== 0 && status !== 503 && status !== 429 && status < 500) throw error;
      failure ||= (error as Error).message;
    }
    if (attempt >= maxRetries) throw new Error(`giving up on lines ${chunk.firstLine}… after ${attempt + 1} attempts: ${failure}`);
    const delay = Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    process.stderr.write(`\nretrying lines ${chunk.firstLine}… in ${Math.round(delay)} ms (${failure})\n`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

async function main(): Promise<void> {
  const input = createReadStream(file);
  input.on('data', (data) => (bytesRead += data.length));
  const lines = createInterface({ input, crlfDelay: Infinity });
  const inFlight = new Set<Promise<void>>();
  let failed: Error | undefined;
  let lineNumber = 0;
  let current: Chunk = { firstLine: 0, lines: [], lineNumbers: [], bytes: 0 };
  const timer = setInterval(() => progress(), 250);

  const dispatch = async (chunk: Chunk) => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failed) throw failed;
    const p = sendChunk(chunk).catch((error: Error) => {
      failed ??= error;
    });
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  for await (const line of lines) {
    lineNumber++;
    if (isCsv && lineNumber === 1) {
      if (line.replace(/^\uFEFF/, '').trim() !== CSV_HEADER) throw new Error(`line 1 must be the header "${CSV_HEADER}"`);
      continue;
    }
    if (line.trim() === '') continue;
    if (current.lines.length === 0) current.firstLine = lineNumber;
    current.lines.push(line);
    current.lineNumbers.push(lineNumber);
    current.bytes += Buffer.byteLength(line) + 1;
    if (current.lines.length >= chunkSize || current.bytes >= MAX_REQUEST_BYTES) {
      await dispatch(current);
      current = { firstLine: 0, lines: [], lineNumbers: [], bytes: 0 };
    }
  }
  if (current.lines.length > 0) await dispatch(current);
  await Promise.all(inFlight);
  clearInterval(timer);
  progress(true);
  if (failed) throw failed;

  const seconds = (Date.now() - started) / 1000;
  rejected.sort((a, b) => a.line - b.line);
  process.stdout.write(
    `\n${file}: ${sentEvents} events sent in ${seconds.toFixed(1)} s (${Math.round(sentEvents / seconds)} events/s): ${accepted} accepted, ${rejected.length} rejected\n`,
  );
  for (const r of rejected) process.stdout.write(`  line ${r.line}${r.eventId ? ` (${r.eventId})` : ''}: ${r.errors.join('; ')}\n`);
  process.exitCode = rejected.length > 0 ? 1 : 0;
}

main().catch((error: Error) => {
  process.stderr.write(`\nupload failed: ${error.message}\n`);
  process.exit(1);
});
