import { appUrl, waitFor } from '@app/testing';

/** One server-sent event as a client sees it (`data` parsed as JSON when it is). */
export interface SseEvent {
  id?: string;
  event?: string;
  data: any;
  raw: string;
}

/** A `text/event-stream` answer read as it comes, or the error answer a stream was refused with. */
export interface EventStream {
  status: number;
  headers: Headers;
  /** The JSON body of an answer that is not a stream (an error). */
  body?: any;
  readonly events: SseEvent[];
  /** Comment lines (heartbeats), without the colon. */
  readonly comments: string[];
  /** Resolves once the server has ended the stream. */
  readonly ended: Promise<void>;
  isEnded(): boolean;
  /** Waits for the nth event (0-based). */
  event(index: number, timeoutMs?: number): Promise<SseEvent>;
  /** Leaves, as a client closing its tab would. */
  close(): void;
}

/** Opens `GET path` as an EventSource would (Accept: text/event-stream), on the shared api unless `base` says otherwise. */
export async function openEventStream(path: string, options: { token?: string; base?: string; headers?: Record<string, string> } = {}): Promise<EventStream> {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${options.base ?? appUrl('api')}${path}`, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let done = false;
  const base = {
    status: response.status,
    headers: response.headers,
    events,
    comments,
    isEnded: () => done,
    event: (index: number, timeoutMs = 30_000) =>
      waitFor(
        `event ${index} of ${path}`,
        () => events[index] ?? (done ? Promise.reject(new Error(`the stream ended after ${events.length} event(s)`)) : undefined),
        { timeoutMs, intervalMs: 20 },
      ),
    close: () => controller.abort(),
  };
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const text = await response.text();
    done = true;
    return { ...base, body: text ? JSON.parse(text) : undefined, ended: Promise.resolve() };
  }
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
          parseBlock(block, events, comments);
        }
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    } finally {
      done = true;
    }
  })();
  ended.catch(() => undefined);
  return { ...base, ended };
}

function parseBlock(block: string, events: SseEvent[], comments: string[]): void {
  const fields: { id?: string; event?: string; data: string[] } = { data: [] };
  for (const line of block.split(/\r?\n/)) {
    if (line === '') continue;
    if (line.startsWith(':')) {
      comments.push(line.slice(1).trim());
      continue;
    }
    const at = line.indexOf(':');
    const name = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
    if (name === 'data') fields.data.push(value);
    else if (name === 'id') fields.id = value;
    else if (name === 'event') fields.event = value;
  }
  if (fields.data.length === 0) return;
  const raw = fields.data.join('\n');
  let data: unknown = raw;
  try {
    data = JSON.parse(raw);
  } catch {
    // not JSON: kept as the string it is
  }
  events.push({ id: fields.id, event: fields.event, data, raw });
}
