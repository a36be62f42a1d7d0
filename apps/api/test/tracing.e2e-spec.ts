import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AccountRpc, MessageContracts, ShopRpc } from '@app/contracts';
import type { SpanLine } from '@app/observability/tracing-sdk';
import { APP_NAMES, AppName, appUrl, E2E_PORT_BASE, eventsCsv, makeEvents, restartApp, waitFor } from '@app/testing';
import { call, createItem, credit, registerUser, waitTerminal } from './support/commerce';

jest.setTimeout(300_000);

/**
 * Tracing across the running system: every app restarted with the `file` exporter (one file of
 * JSON lines per app), then one purchase followed from the api's request to the mailer, and one
 * upload of 50,000 events followed from ingest to process. The system is restarted without
 * tracing afterwards, as the other suites expect it.
 */
const DIR = resolve(__dirname, '../../../.infra', `e2e-${E2E_PORT_BASE}`, `traces-${randomUUID().slice(0, 8)}`);
const fileOf = (app: AppName) => join(DIR, `${app}.jsonl`);
const tracingEnv = (app: AppName) => ({ OTEL_TRACES_EXPORTER: 'file', TRACES_FILE: fileOf(app), OTEL_BSP_SCHEDULE_DELAY: '200' });

function spansOf(app: AppName): SpanLine[] {
  if (!existsSync(fileOf(app))) return [];
  return readFileSync(fileOf(app), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as SpanLine);
}

const allSpans = () => APP_NAMES.flatMap(spansOf);

beforeAll(async () => {
  await Promise.all(APP_NAMES.map((app) => restartApp(app, tracingEnv(app))));
});

afterAll(async () => {
  await Promise.all(APP_NAMES.map((app) => restartApp(app)));
  rmSync(DIR, { recursive: true, force: true });
});

describe('tracing (e2e, OpenTelemetry with the file exporter)', () => {
  it('one purchase is one trace: api, account, shop, account again and the mailer, parent to child', async () => {
    const user = await registerUser('traced');
    await credit(user.id, 10_000);
    const sku = await createItem(5, 250);
    const correlationId = `trace-${randomUUID()}`;

    const reply = await call('POST', '/v1/purchases', { token: user.token, body: { sku, quantity: 1 }, headers: { 'x-correlation-id': correlationId } });
    expect(reply.status).toBe(202);
    const purchaseId = reply.body.purchaseId as string;
    const [purchase] = [...(await waitTerminal(user, [purchaseId])).values()];
    expect(purchase.status).toBe('COMPLETED');

    // The mail is the last step: once its span is written, every earlier one is too.
    const mailed = await waitFor(
      'the mailer span of the purchase mail',
      () => spansOf('mailer').find((s) => s.kind === 'CONSUMER' && s.attributes['messaging.message.id'] === `purchase-completed:${purchaseId}`),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const request = spansOf('api').find(
      (s) => s.kind === 'SERVER' && s.attributes['http.route'] === '/v1/purchases' && s.attributes['correlation.id'] === correlationId,
    );
    expect(request).toMatchObject({
      name: 'POST /v1/purchases',
      service: 'api',
      attributes: { 'http.request.method': 'POST', 'http.response.status_code': 202 },
    });
    expect(request!.parentSpanId).toBeUndefined();
    const traceId = request!.traceId;
    expect(mailed.traceId).toBe(traceId);

    // One trace: every span that carries the purchase's correlation id, in every app, is in it.
    await waitFor('the spans of the trace to be written', () => allSpans().filter((s) => s.traceId === traceId).length >= 9, { timeoutMs: 30_000 });
    const spans = allSpans();
    const correlated = spans.filter((s) => s.attributes['correlation.id'] === correlationId);
    expect(new Set(correlated.map((s) => s.traceId))).toEqual(new Set([traceId]));
    const trace = spans.filter((s) => s.traceId === traceId);
    expect([...new Set(trace.map((s) => s.service))]).toEqual(expect.arrayContaining(['api', 'account', 'shop', 'mailer']));

    // The chain, each span the child of the one before: HTTP → RPC → saga messages → mail.
    const child = (parent: SpanLine, service: string, kind: SpanLine['kind'], name: string) => {
      const found = trace.find((s) => s.parentSpanId === parent.spanId && s.service === service && s.kind === kind && s.name === name);
      if (!found) throw new Error(`no ${kind} span "${name}" of ${service} under "${parent.name}" (${parent.service}); spans: ${listSpans(trace)}`);
      return found;
    };
    const placeCall = child(request!, 'api', 'CLIENT', `rpc ${AccountRpc.PlacePurchase.pattern}`);
    const place = child(placeCall, 'account', 'SERVER', `rpc ${AccountRpc.PlacePurchase.pattern}`);
    const reserveSent = child(place, 'account', 'PRODUCER', `publish ${MessageContracts.ReserveStock.pattern}`);
    const reserve = child(reserveSent, 'shop', 'CONSUMER', `process ${MessageContracts.ReserveStock.pattern}`);
    const reservedSent = child(reserve, 'shop', 'PRODUCER', `publish ${MessageContracts.StockReserved.pattern}`);
    const reserved = child(reservedSent, 'account', 'CONSUMER', `process ${MessageContracts.StockReserved.pattern}`);
    const mailSent = child(reserved, 'account', 'PRODUCER', `publish ${MessageContracts.SendMail.pattern}`);
    expect(child(mailSent, 'mailer', 'CONSUMER', `process ${MessageContracts.SendMail.pattern}`).spanId).toBe(mailed.spanId);
    // The price the api looked up first: an RPC to shop in the same trace.
    child(child(request!, 'api', 'CLIENT', `rpc ${ShopRpc.GetItem.pattern}`), 'shop', 'SERVER', `rpc ${ShopRpc.GetItem.pattern}`);

    // Cassandra statements are spans of their own, named by operation and table, and carry no values.
    const statements = trace.filter((s) => s.attributes['db.system.name'] === 'cassandra');
    expect([...new Set(statements.map((s) => s.service))]).toEqual(expect.arrayContaining(['account', 'shop', 'mailer']));
    // The saga goes on after the RPC answered, its statements still in the RPC's span: the debit among them.
    expect(statements.filter((s) => s.parentSpanId === place.spanId).map((s) => s.name)).toEqual(
      expect.arrayContaining(['INSERT account.purchases', 'BATCH account.ledger', 'UPDATE account.purchases']),
    );
    for (const span of statements) {
      const text = JSON.stringify(span.attributes);
      for (const value of [purchaseId, user.id, user.email, sku]) expect(text).not.toContain(value);
    }
    // The RPC latency histogram counted the call.
    const metrics = await (await fetch(`${appUrl('api')}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`rabbitmq_rpc_duration_seconds_count\\{[^}]*pattern="${AccountRpc.PlacePurchase.pattern}"[^}]*outcome="ok"[^}]*\\} [1-9]`),
    );
  });

  it('continues the trace of a caller that sends a W3C traceparent', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const reply = await fetch(`${appUrl('api')}/v1/items?limit=1`, { headers: { traceparent: `00-${traceId}-${parentId}-01` } });
    expect(reply.status).toBe(200);
    const span = await waitFor('the api span of the request', () => spansOf('api').find((s) => s.traceId === traceId && s.kind === 'SERVER'), {
      timeoutMs: 30_000,
    });
    expect(span).toMatchObject({ name: 'GET /v1/items', parentSpanId: parentId });
    const lookup = await waitFor('shop to answer in the same trace', () => spansOf('shop').find((s) => s.traceId === traceId && s.kind === 'SERVER'), {
      timeoutMs: 30_000,
    });
    expect(lookup.name).toBe(`rpc ${ShopRpc.ListItems.pattern}`);
  });

  it('an upload of 50,000 events is a bounded number of spans: one per request and produce call, one per consumed batch', async () => {
    const run = randomUUID().slice(0, 8);
    const skus = Array.from({ length: 500 }, (_, i) => `TRACE-${run}-${i}`);
    const events = makeEvents(50_000, skus, `trace-${run}`);
    const correlationId = `upload-${run}`;
    const response = await fetch(`${appUrl('ingest')}/v1/stores/store-1/stock-events`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', 'x-api-key': 'dev-key-store-1', 'x-correlation-id': correlationId },
      body: eventsCsv(events),
    });
    expect(response.status).toBe(202);
    expect(((await response.json()) as { accepted: number }).accepted).toBe(50_000);

    const request = await waitFor(
      'the ingest span of the upload',
      () => spansOf('ingest').find((s) => s.kind === 'SERVER' && s.attributes['correlation.id'] === correlationId),
      { timeoutMs: 30_000 },
    );
    await waitFor('the produce spans of the upload', () => spansOf('ingest').filter((s) => s.parentSpanId === request.spanId).length >= 25, {
      timeoutMs: 30_000,
    });
    const ingest = spansOf('ingest').filter((s) => s.traceId === request.traceId);
    const produced = ingest.filter((s) => s.kind === 'PRODUCER');
    // ingest publishes in chunks of 2,000 records: 25 produce calls, each one span whatever its size.
    expect(produced).toHaveLength(25);
    expect(produced.reduce((sum, s) => sum + Number(s.attributes['messaging.batch.message_count']), 0)).toBe(50_000);
    expect(ingest).toHaveLength(1 + produced.length);

    // process: one span per partition batch, child of the producer or linked to the producers (distinct, capped).
    const producers = new Set(produced.map((s) => s.spanId));
    const ofUpload = (s: SpanLine) => s.kind === 'CONSUMER' && (producers.has(s.parentSpanId ?? '') || s.links.some((l) => producers.has(l.spanId)));
    const batches = await waitFor(
      'process to consume the upload',
      () => {
        const found = spansOf('process').filter(ofUpload);
        const consumed = found.reduce((sum, s) => sum + Number(s.attributes['messaging.batch.message_count']), 0);
        return consumed >= 50_000 && found;
      },
      { timeoutMs: 180_000, intervalMs: 1_000 },
    );
    for (const batch of batches) {
      expect(batch.name).toMatch(/^process stock\.events/);
      expect(batch.links.length).toBeLessThanOrEqual(32);
      expect(new Set(batch.links.map((l) => l.spanId)).size).toBe(batch.links.length);
    }
    expect(batches.length).toBeLessThan(500);
    // Everything process wrote for them: the batch spans and at most a budget of statement spans under each.
    const underBatches = spansOf('process').filter((s) => batches.some((b) => b.spanId === s.parentSpanId));
    expect(underBatches.length).toBeLessThanOrEqual(batches.length * 64);
    expect(batches.length + underBatches.length).toBeLessThan(50_000 / 10);
  });
});

/** For a failure message: what the trace holds. */
function listSpans(spans: SpanLine[]): string {
  return spans.map((s) => `${s.service}:${s.kind}:${s.name}`).join(', ');
}
