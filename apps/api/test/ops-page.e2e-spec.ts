import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { Browser, chromium, Locator, Page } from 'playwright-core';
import { MessageHeaders, Topics } from '@app/contracts';
import { APP_NAMES, appUrl, waitFor } from '@app/testing';
import { admin, call, registerUser } from './support/commerce';

jest.setTimeout(240_000);

const ROOT = resolve(__dirname, '../../..');
const ADMIN = { email: 'admin@example.com', password: 'admin-password' };
const DEAD_LETTERS = Topics.StockEventsDeadLetter;
const STORE = 'store-1';

/** Debian's chromium, installed by the same script CI runs when it is missing. */
function chromiumPath(): string {
  return execFileSync(process.execPath, [join(ROOT, 'scripts', 'browser', 'ensure-chromium.mjs')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** Polls a locator's text until `accept` takes it (the page refreshes itself every few seconds). */
async function textUntil(description: string, locator: Locator, accept: (text: string) => boolean, timeoutMs = 60_000): Promise<string> {
  return waitFor(
    description,
    async () => {
      const text = (await locator.textContent({ timeout: 1_000 })) ?? '';
      return accept(text) ? text : Promise.reject(new Error(`text is ${JSON.stringify(text.slice(0, 200))}`));
    },
    { timeoutMs, intervalMs: 250 },
  );
}

describe("GET /ops, the operators' page, in headless Chromium (e2e)", () => {
  let browser: Browser;
  let page: Page;
  let producer: Producer;
  /** Script errors and console errors other than failed requests (a CSP violation is one). */
  const pageProblems: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, locale: 'en-GB', timezoneId: 'UTC' });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // Chromium logs every 4xx answer of fetch as a console error; the page handles those itself.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageProblems.push(`console: ${message.text()}`);
    });
    const kafka = new Kafka({ clientId: 'ops-page-e2e', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
    await admin(); // the seeded admin can sign in
  });

  afterAll(async () => {
    await browser?.close();
    await producer?.disconnect();
  });

  afterEach(() => {
    expect(pageProblems).toEqual([]);
  });

  const signIn = async (email: string, password: string) => {
    await page.goto(`${appUrl('api')}/ops`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  it('serves the page under a strict Content-Security-Policy, its files with their types, 404 for others', async () => {
    const html = await fetch(`${appUrl('api')}/ops`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = html.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(await html.text()).toContain('<script type="module" src="/ops/assets/ops.js"></script>');

    expect((await fetch(`${appUrl('api')}/ops/assets/ops.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${appUrl('api')}/ops/assets/ops.css`)).headers.get('content-type')).toMatch(/^text\/css/);
    const missing = await fetch(`${appUrl('api')}/ops/assets/nothing-here.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ statusCode: 404, error: 'Not Found', message: expect.stringContaining('/ops') });
  });

  it('says why it refuses a wrong password, and an account without the admin or ops role', async () => {
    await signIn(ADMIN.email, 'not the password');
    await page.getByRole('alert').getByText('Wrong email or password').waitFor();

    const user = await registerUser('ops-page');
    await signIn(user.email, user.password);
    await page.getByRole('alert').getByText('needs an account with the admin or ops role').waitFor();
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
  });

  it('signs in as admin, shows all six apps and the lag, a dead letter appearing, its messages, and replays it', async () => {
    await signIn(ADMIN.email, ADMIN.password);
    await page.getByText(`Signed in as ${ADMIN.email}`).waitFor();
    for (const name of APP_NAMES) await page.locator(`#apps tr[data-app="${name}"] [data-status="up"]`).waitFor({ timeout: 60_000 });
    expect(await page.locator('#apps tbody tr').count()).toBe(APP_NAMES.length);
    await page.locator(`#lag tr[data-group="process"][data-topic="${Topics.StockEvents}"]`).waitFor();
    // Purchase outcomes: one row per terminal status, from account's counts.
    for (const status of ['COMPLETED', 'REJECTED', 'CANCELLED']) await page.locator(`#purchases tr[data-purchase-status="${status}"] td.num.all`).waitFor();
    // Top-ups: one row per status, from account's counts.
    for (const status of ['SUCCEEDED', 'PENDING', 'FAILED']) await page.locator(`#top-ups tr[data-top-up-status="${status}"] td.num`).waitFor();

    const queue = page.locator(`#dead-letters tr[data-queue="${DEAD_LETTERS}"]`);
    const count = queue.locator('td.count');
    const before = Number(await textUntil('the dead-letter count to show', count, (text) => /^\d+$/.test(text)));

    // A broken producer's record: not JSON, so process dead-letters it with the reason.
    const marker = `ops-page-${randomUUID()}`;
    await producer.send({ topic: Topics.StockEvents, acks: -1, messages: [{ key: `${STORE}/${marker}`, value: `{"eventId": "${marker}", oops` }] });
    await textUntil(`the count of ${DEAD_LETTERS} to go above ${before}`, count, (text) => Number(text) > before);

    await page.getByRole('button', { name: `Inspect ${DEAD_LETTERS}` }).click();
    await page.getByRole('heading', { name: `Messages in ${DEAD_LETTERS}` }).waitFor();
    const poison = page.locator('#messages tbody tr', { hasText: marker });
    await poison.waitFor();
    expect(await poison.locator('td.reason').textContent()).toMatch(/JSON/i);
    expect(await poison.locator('pre.payload').textContent()).toContain(marker);
    const id = (await poison.getAttribute('data-message-id'))!;
    const firstDeadLetteredAt = await poison.locator('time').getAttribute('datetime');

    if (process.env.OPS_SCREENSHOT === '1') await page.screenshot({ path: join(ROOT, 'docs', 'ops.png'), fullPage: true });

    await poison.getByRole('button', { name: `Replay message ${id}` }).click();
    await page.getByRole('status').getByText(`Replayed 1 message of ${DEAD_LETTERS}`).waitFor();
    // Still not JSON, so it is dead-lettered again: the entry that was replayed leaves the list, and
    // what comes back is a new dead letter of the same record.
    await waitFor(
      'the replayed entry to leave the list',
      async () => {
        const same = page.locator(`#messages tbody tr[data-message-id="${id}"]`);
        if ((await same.count()) === 0) return true;
        return (await same.locator('time').getAttribute('datetime')) !== firstDeadLetteredAt;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  });

  it('replays a dead letter whose cause is gone: it is processed, and leaves the queue for good', async () => {
    // A valid event that a consumer dead-lettered (a bug since fixed), as the consumer writes it.
    const sku = `OPS-${randomUUID().slice(0, 8)}`;
    const event = { storeId: STORE, eventId: `ops-page-${sku}`, sku, type: 'delivery', quantity: 7, occurredAt: new Date().toISOString() };
    await producer.send({
      topic: DEAD_LETTERS,
      acks: -1,
      messages: [
        {
          key: `${STORE}/${sku}`,
          value: JSON.stringify(event),
          headers: {
            [MessageHeaders.MessageId]: `${STORE}/${event.eventId}`,
            [MessageHeaders.CorrelationId]: randomUUID(),
            [MessageHeaders.DeadLetterReason]: 'handler failed: a bug fixed since',
            'x-dead-lettered-at': new Date().toISOString(),
            'x-original-topic': Topics.StockEvents,
            'x-original-partition': '0',
            'x-original-offset': '0',
          },
        },
      ],
    });
    if (await page.locator('#login').isVisible()) await signIn(ADMIN.email, ADMIN.password);
    await page.getByRole('button', { name: `Inspect ${DEAD_LETTERS}` }).click();
    const message = page.locator('#messages tbody tr', { hasText: sku });
    await waitFor(
      'the dead letter to be listed',
      async () => {
        if ((await message.count()) > 0) return true;
        await page.getByRole('button', { name: 'Reload messages' }).click();
        return false;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    const id = (await message.getAttribute('data-message-id'))!;
    await message.getByRole('button', { name: `Replay message ${id}` }).click();
    await page.getByRole('status').getByText(`Replayed 1 message of ${DEAD_LETTERS}`).waitFor();

    const level = await waitFor(
      'the replayed event to be applied',
      async () => {
        const reply = await call('GET', `/v1/stores/${STORE}/stock/${sku}`);
        return reply.status === 200 ? reply.body : false;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(level).toMatchObject({ storeId: STORE, sku, quantity: 7 });
    await page.locator('#messages tbody tr', { hasText: sku }).waitFor({ state: 'detached', timeout: 30_000 });
  });
});
