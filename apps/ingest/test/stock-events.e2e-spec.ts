import { randomUUID } from 'node:crypto';
import { appPort, appUrl, streamRequest, waitFor } from '@app/testing';

jest.setTimeout(120_000);

const KEYS: Record<string, string> = { 'store-1': 'dev-key-store-1', 'store-2': 'dev-key-store-2' };
const run = randomUUID().slice(0, 8);
const sku = (name: string) => `E2E-${run}-${name}`;
const at = (minutes: number) => new Date(Date.UTC(2024, 0, 1, 0, minutes)).toISOString();

async function post(storeId: string, contentType: string, body: string, key: string | null = KEYS[storeId]) {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (key !== null) headers['x-api-key'] = key;
  const response = await fetch(`${appUrl('ingest')}/v1/stores/${storeId}/stock-events`, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const csv = (rows: string[]) => ['eventId,sku,type,quantity,occurredAt', ...rows].join('\n') + '\n';
const ndjson = (events: object[]) => events.map((e) => JSON.stringify(e)).join('\n');

async function level(storeId: string, s: string) {
  const response = await fetch(`${appUrl('api')}/v1/stores/${storeId}/stock/${s}`);
  return response.status === 200 ? ((await response.json()) as { quantity: number }).quantity : undefined;
}

async function eventuallyLevel(storeId: string, s: string, expected: number) {
  await waitFor(`${storeId}/${s} to reach ${expected}`, async () => (await level(storeId, s)) === expected, { timeoutMs: 30_000, intervalMs: 200 });
}

describe('stock pipeline: ingest → process → api', () => {
  it('accepts valid CSV lines, rejects the others with their data line numbers, and applies counts whatever the order', async () => {
    const s = sku('csv');
    const result = await post(
      'store-1',
      'text/csv',
      csv([
        `${run}-s2,${s},sale,3,${at(30)}`, // after the count: counts
        `${run}-d1,${s},delivery,100,${at(0)}`, // before the count: irrelevant
        `${run}-bad1,${s},sale,-1,${at(5)}`,
        `${run}-c1,${s},count,40,${at(20)}`,
        `${run}-a1,${s},adjustment,-2,${at(25)}`,
        `,${s},delivery,1,${at(1)}`,
        `${run}-bad3,${s},teleport,1,${at(1)}`,
        `${run}-s2,${s},sale,3,${at(30)}`, // duplicate in the same request
      ]),
    );
    expect(result.status).toBe(202);
    expect(result.body.accepted).toBe(5);
    expect(result.body.rejected.map((r: { index: number }) => r.index)).toEqual([3, 6, 7]);
    expect(result.body.rejected[0]).toEqual({ index: 3, eventId: `${run}-bad1`, errors: ['quantity must be > 0 for a sale'] });
    await eventuallyLevel('store-1', s, 35);

    // The same events again, in another request and format: nothing changes. A later delivery counts.
    const again = await post(
      'store-1',
      'application/x-ndjson',
      ndjson([
        { eventId: `${run}-d1`, sku: s, type: 'delivery', quantity: 100, occurredAt: at(0) },
        { eventId: `${run}-s2`, sku: s, type: 'sale', quantity: 3, occurredAt: at(30) },
        { eventId: `${run}-d2`, sku: s, type: 'delivery', quantity: 7, occurredAt: at(40) },
      ]),
    );
    expect(again).toEqual({ status: 202, body: { accepted: 3, rejected: [] } });
    await eventuallyLevel('store-1', s, 42);
  });

  it('JSON as an array or { events }, NDJSON with 0-based indexes, and 400 when nothing is valid', async () => {
    const s = sku('json');
    const e = (id: string, type: string, quantity: number, minute: number) => ({ eventId: `${run}-${id}`, sku: s, type, quantity, occurredAt: at(minute) });
    expect((await post('store-1', 'application/json', JSON.stringify([e('j1', 'delivery', 5, 1), { eventId: 'x', sku: 'bad sku!' }]))).body).toEqual({
      accepted: 1,
      rejected: [{ index: 1, eventId: 'x', errors: expect.arrayContaining(['sku must be 1–64 characters of A-Z a-z 0-9 . _ -']) }],
    });
    expect((await post('store-1', 'application/json', JSON.stringify({ events: [e('j2', 'sale', 2, 2)] }))).body).toEqual({ accepted: 1, rejected: [] });
    const nd = await post('store-1', 'application/x-ndjson', `${JSON.stringify(e('j3', 'adjustment', 1, 3))}\nnot json\n`);
    expect(nd.status).toBe(202);
    expect(nd.body.rejected).toEqual([{ index: 1, errors: [expect.stringContaining('not valid JSON')] }]);

    const none = await post('store-1', 'application/json', JSON.stringify([{ ...e('j4', 'count', -1, 4) }]));
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ statusCode: 400, error: 'Bad Request', accepted: 0, rejected: [{ index: 0, eventId: `${run}-j4` }] });

    const future = await post(
      'store-1',
      'application/json',
      JSON.stringify([{ ...e('j5', 'delivery', 1, 0), occurredAt: new Date(Date.now() + 3_600_000).toISOString() }]),
    );
    expect(future.body.rejected[0].errors).toEqual(['occurredAt must not be more than 5 minutes in the future']);
    await eventuallyLevel('store-1', s, 4);
  });

  it('parse errors, content types, keys and limits', async () => {
    const broken = await post('store-1', 'application/json', '[{"eventId": ');
    expect(broken.status).toBe(400);
    expect(broken.body.message).toMatch(/cannot be parsed/);
    expect((await post('store-1', 'text/csv', 'id,sku\n')).status).toBe(400);
    expect((await post('store-1', 'text/plain', 'x')).status).toBe(415);
    expect((await post('store-1', 'application/json', '[]', null)).status).toBe(401);
    expect((await post('store-1', 'application/json', '[]', 'nope')).status).toBe(401);
    expect((await post('store-1', 'application/json', '[]', KEYS['store-2'])).status).toBe(403);

    const line = (i: number) => `${run}-big-${i},${sku('big')},delivery,1,${at(0)}`;
    const tooMany = await post('store-1', 'text/csv', csv(Array.from({ length: 50_001 }, (_, i) => line(i))));
    expect(tooMany.status).toBe(413);
    // Past 10 MiB ingest answers 413 and closes while the client may still be writing: sent over a
    // socket that stops writing once the answer starts (fetch would report EPIPE instead).
    const oversized = (contentType: string, body: string) =>
      streamRequest(
        appPort('ingest'),
        `POST /v1/stores/store-1/stock-events HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${KEYS['store-1']}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
        Buffer.from(body),
      );
    const huge = 'eventId,sku,type,quantity,occurredAt\n' + `${'x'.repeat(1000)}\n`.repeat(11 * 1024);
    expect((await oversized('text/csv', huge)).status).toBe(413);
    expect((await oversized('application/json', `[${'1,'.repeat(5_600_000)}1]`)).status).toBe(413);
    expect(await level('store-1', sku('big'))).toBeUndefined();
  });

  it('takes exactly 50,000 events in one request', async () => {
    const s = sku('max');
    const rows = Array.from({ length: 50_000 }, (_, i) => `${run}-m${i},${s},delivery,1,${at(0)}`);
    const result = await post('store-1', 'text/csv', csv(rows));
    expect(result).toEqual({ status: 202, body: { accepted: 50_000, rejected: [] } });
    await eventuallyLevel('store-1', s, 50_000);
  });

  it('pages without repeats or gaps, filters with below, and totals across stores', async () => {
    const names = Array.from({ length: 23 }, (_, i) => sku(`page-${String(i).padStart(2, '0')}`));
    await post(
      'store-1',
      'application/json',
      JSON.stringify(names.map((s, i) => ({ eventId: `${run}-p${i}`, sku: s, type: 'count', quantity: i, occurredAt: at(0) }))),
    );
    await post('store-2', 'application/json', JSON.stringify([{ eventId: `${run}-p0`, sku: names[5], type: 'delivery', quantity: 10, occurredAt: at(0) }]));
    for (const [i, s] of names.entries()) await eventuallyLevel('store-1', s, i);
    await eventuallyLevel('store-2', names[5], 10);

    const seen: string[] = [];
    let token: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '7', ...(token ? { pageToken: token } : {}) });
      const page = (await (await fetch(`${appUrl('api')}/v1/stores/store-1/stock?${query}`)).json()) as {
        items: { sku: string }[];
        nextPageToken: string | null;
      };
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((i) => i.sku));
      token = page.nextPageToken;
    } while (token);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((s) => names.includes(s))).toEqual(names);

    const below = (await (await fetch(`${appUrl('api')}/v1/stores/store-1/stock?limit=1000&below=3`)).json()) as { items: { sku: string; quantity: number }[] };
    expect(below.items.every((i) => i.quantity < 3)).toBe(true);
    expect(below.items.map((i) => i.sku).filter((s) => names.includes(s))).toEqual(names.slice(0, 3));

    const totals = await (await fetch(`${appUrl('api')}/v1/stock/${names[5]}`)).json();
    expect(totals).toEqual({
      sku: names[5],
      total: 15,
      stores: expect.arrayContaining([
        { storeId: 'store-1', quantity: 5 },
        { storeId: 'store-2', quantity: 10 },
      ]),
    });
    expect((await fetch(`${appUrl('api')}/v1/stock/${sku('never')}`)).status).toBe(404);
    expect((await fetch(`${appUrl('api')}/v1/stores/store-1/stock/${sku('never')}`)).status).toBe(404);

    for (const bad of ['limit=0', 'limit=1001', 'limit=abc', 'pageToken=garbage', 'below=x']) {
      expect((await fetch(`${appUrl('api')}/v1/stores/store-1/stock?${bad}`)).status).toBe(400);
    }
    const first = (await (await fetch(`${appUrl('api')}/v1/stores/store-1/stock?limit=1`)).json()) as { nextPageToken: string };
    const [payload, signature] = first.nextPageToken.split('.');
    const forged = Buffer.from(JSON.stringify({ s: 'store-1', a: 'ZZZ' })).toString('base64url');
    expect((await fetch(`${appUrl('api')}/v1/stores/store-1/stock?pageToken=${forged}.${signature}`)).status).toBe(400);
    expect((await fetch(`${appUrl('api')}/v1/stores/store-2/stock?pageToken=${payload}.${signature}`)).status).toBe(400);
  });
});
