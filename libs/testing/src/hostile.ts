import { existsSync, readFileSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { APP_NAMES, AppName, appUrl, E2E_PORT_BASE, isAlive, restartApp } from './apps';

/** What one request got back; `status` 0 means no HTTP answer at all (refused, reset, timed out). */
export interface HostileReply {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
  /** Why there was no answer, when `status` is 0. */
  error?: string;
  elapsedMs: number;
}

export interface SendOptions {
  headers?: Record<string, string>;
  /** A string or bytes are sent as they are; anything else as JSON (with a JSON content type unless one is given). */
  body?: unknown;
  timeoutMs?: number;
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Sends one request with fetch; never throws on network errors (they give `status: 0` and `error`). */
export async function send(method: string, url: string, options: SendOptions = {}): Promise<HostileReply> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Uint8Array | undefined;
  if (options.body === undefined || typeof options.body === 'string') body = options.body as string | undefined;
  else if (options.body instanceof Uint8Array) body = options.body;
  else {
    body = JSON.stringify(options.body);
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const started = Date.now();
  try {
    const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
    const text = await response.text();
    const replyHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => (replyHeaders[name] = value));
    return { status: response.status, headers: replyHeaders, text, json: parseJson(text), elapsedMs: Date.now() - started };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = [(error as Error).name, (error as Error).message, cause?.code ?? cause?.message].filter(Boolean).join(': ');
    return { status: 0, headers: {}, text: '', json: undefined, error: detail, elapsedMs: Date.now() - started };
  }
}

export interface RawOptions {
  timeoutMs?: number;
  /** Half-close the socket after the last chunk (the server then sees the end of the request stream). */
  end?: boolean;
}

export interface RawReply extends HostileReply {
  /** The server closed the connection (with or without an answer). */
  closed: boolean;
}

/**
 * One request over a raw socket: `send` writes it once connected (it may look at `answered()` to
 * stop writing), and the first HTTP answer is read. Never throws. A socket error ends the exchange
 * at once, unless `waitOnError`: then the answer, if any, is read on close.
 */
function exchange(
  port: number,
  timeoutMs: number,
  send: (socket: Socket, answered: () => boolean) => void,
  { waitOnError = false, closedError }: { waitOnError?: boolean; closedError?: string } = {},
): Promise<RawReply> {
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (closed: boolean, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolvePromise(rawReply(received, closed, started, error ?? (closed ? closedError : undefined)));
    };
    const timer = setTimeout(() => finish(false, `no answer within ${timeoutMs} ms`), timeoutMs);
    socket.on('connect', () => send(socket, () => received.length > 0));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (parseHttpResponse(received)?.complete) finish(false);
    });
    socket.on('error', (error) => (waitOnError ? undefined : finish(true, error.message)));
    socket.on('close', () => finish(true));
  });
}

/**
 * Writes bytes fetch refuses to send (NUL, bare CR, raw UTF-8 in headers, wrong Content-Length)
 * to a raw socket and reads the first HTTP answer. Never throws.
 */
export function rawRequest(port: number, data: string | Buffer | (string | Buffer)[], options: RawOptions = {}): Promise<RawReply> {
  const chunks = (Array.isArray(data) ? data : [data]).map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk));
  return exchange(
    port,
    options.timeoutMs ?? 10_000,
    (socket) => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.end) socket.end();
    },
    { closedError: 'closed without an answer' },
  );
}

/**
 * Sends `head` and the first chunk of `body`, gives the server a second to answer from the
 * headers alone (as a client waiting on `Expect: 100-continue` would), then the rest, stopping
 * as soon as an answer starts; resolves with that answer. For bodies over a limit: a server that
 * answers 413 and closes while unread bytes wait in its socket resets the connection, and the
 * client loses the answer (fetch reports EPIPE or ECONNRESET instead).
 */
export function streamRequest(port: number, head: string, body: Buffer, { timeoutMs = 30_000, chunkBytes = 64 * 1024 } = {}): Promise<RawReply> {
  return exchange(
    port,
    timeoutMs,
    (socket, answered) => {
      let at = Math.min(chunkBytes, body.length);
      const writeMore = () => {
        while (at < body.length && !answered() && !socket.destroyed) {
          const chunk = body.subarray(at, at + chunkBytes);
          at += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', writeMore);
        }
      };
      socket.write(Buffer.from(head, 'latin1'));
      socket.write(body.subarray(0, chunkBytes));
      const rest = setTimeout(writeMore, 1_000);
      socket.on('close', () => clearTimeout(rest));
    },
    // A write refused after the server answered and closed: the answer, if any, is read on close.
    { waitOnError: true, closedError: 'closed without an answer' },
  );
}

function rawReply(received: Buffer, closed: boolean, started: number, error?: string): RawReply {
  const parsed = parseHttpResponse(received);
  return {
    status: parsed?.status ?? 0,
    headers: parsed?.headers ?? {},
    text: parsed?.text ?? '',
    json: parseJson(parsed?.text ?? ''),
    closed,
    error: parsed ? undefined : error,
    elapsedMs: Date.now() - started,
  };
}

interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  complete: boolean;
}

function parseHttpResponse(bytes: Buffer): ParsedResponse | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = bytes.subarray(end + 4);
  let complete = false;
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    complete = body.length >= length;
    body = body.subarray(0, length);
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const decoded: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = body.indexOf('\r\n', at);
      if (lineEnd < 0) break;
      const size = parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
      if (Number.isNaN(size)) break;
      if (size === 0) {
        complete = true;
        break;
      }
      if (body.length < lineEnd + 2 + size) break;
      decoded.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(decoded);
  } else if (Number(match[1]) === 204 || Number(match[1]) === 304) {
    complete = true;
  }
  return { status: Number(match[1]), headers, text: body.toString('utf8'), complete };
}

/** Opens a socket and resolves once it is connected; the caller writes and watches it. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolvePromise(socket));
    socket.once('error', reject);
  });
}

/**
 * Why a reply breaks the contract, or undefined when it keeps it: no 5xx (unless `allow5xx`
 * names the status), an answer at all, and the error body `{ statusCode, error, message }` on every error.
 */
export function contractViolation(reply: HostileReply, allow5xx: number[] = []): string | undefined {
  if (reply.status === 0) return `no answer (${reply.error})`;
  if (reply.status >= 500 && !allow5xx.includes(reply.status)) return `${reply.status} ${reply.text.slice(0, 300)}`;
  if (reply.status >= 400) return errorShapeViolation(reply);
  return undefined;
}

/** Why an error reply's body is not the contract's error shape, or undefined when it is. */
export function errorShapeViolation(reply: HostileReply): string | undefined {
  const body = reply.json;
  const shaped =
    typeof body === 'object' &&
    body !== null &&
    !Array.isArray(body) &&
    body.statusCode === reply.status &&
    typeof body.error === 'string' &&
    body.error.length > 0 &&
    typeof body.message === 'string' &&
    body.message.length > 0;
  return shaped ? undefined : `${reply.status} without the error body {statusCode, error, message}: ${JSON.stringify(reply.text.slice(0, 300))}`;
}

/** Asserts the contract's error shape on an error reply (and that it is one). */
export function expectErrorShape(reply: HostileReply): void {
  expect(reply.status).toBeGreaterThanOrEqual(400);
  expect(reply.json).toEqual(expect.objectContaining({ statusCode: reply.status, error: expect.any(String), message: expect.any(String) }));
  expect(reply.json.message.length).toBeGreaterThan(0);
}

/** PascalCase names ending like an internal class (`GetPurchaseRequest`, `CreateItemRequestDto`), and stack frames. */
const INTERNAL_TEXT = [
  /\b[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)*(?:Request|Dto|Exception|Controller|Service|Repository|Error)\b/,
  /\bat [\w.<>]+ \(|\n\s+at |\.[jt]s:\d+|node_modules|\/dist\/|\/src\//,
];

/** Why an error message shows internals (class names, stack frames, file paths), or undefined. */
export function internalsLeak(reply: HostileReply): string | undefined {
  const message = typeof reply.json?.message === 'string' ? reply.json.message : '';
  const pattern = INTERNAL_TEXT.find((p) => p.test(message));
  return pattern ? `message shows internals (${pattern.exec(message)![0]}): ${JSON.stringify(message.slice(0, 300))}` : undefined;
}

const ROOT = resolve(__dirname, '../../..');
const STATE_FILE = join(ROOT, '.infra', `e2e-${E2E_PORT_BASE}`, 'apps.json');

/** The pid the harness recorded for an app, if any. */
export function appPid(name: AppName): number | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  return (JSON.parse(readFileSync(STATE_FILE, 'utf8')) as Partial<Record<AppName, { pid: number }>>)[name]?.pid;
}

/** The apps whose recorded process is gone. */
export function deadApps(): AppName[] {
  return APP_NAMES.filter((name) => {
    const pid = appPid(name);
    return pid !== undefined && !isAlive(pid);
  });
}

/** Restarts every app whose process is gone (so one crash does not hide the next test's results); returns their names. */
export async function reviveDeadApps(): Promise<AppName[]> {
  const dead = deadApps();
  for (const name of dead) await restartApp(name);
  return dead;
}

/** Every one of the six apps has a live process and answers 200 on /health/ready. */
export async function expectAllReady(): Promise<void> {
  const states = await Promise.all(
    APP_NAMES.map(async (name) => {
      const pid = appPid(name);
      const alive = pid !== undefined && isAlive(pid);
      const ready = await send('GET', `${appUrl(name)}/health/ready`, { timeoutMs: 10_000 });
      return { name, alive, ready: ready.status === 200 ? 200 : ready.status || ready.error };
    }),
  );
  expect(states).toEqual(APP_NAMES.map((name) => ({ name, alive: true, ready: 200 })));
}
