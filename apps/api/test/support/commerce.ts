import { randomUUID } from 'node:crypto';
import { appUrl, waitFor } from '@app/testing';

/** Small HTTP client for the api, as a client app would use it. */
export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = any>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; /** Another api instance's URL. */ base?: string } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${options.base ?? appUrl('api')}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
}

export async function registerUser(prefix = 'buyer'): Promise<TestUser> {
  const email = `${unique(prefix)}@example.test`;
  const password = 'correct horse battery';
  const created = await call('POST', '/v1/accounts', { body: { email, password, name: `Test ${prefix}` } });
  if (created.status !== 201) throw new Error(`register ${email}: ${created.status} ${JSON.stringify(created.body)}`);
  return { id: created.body.id, email, password, token: await login(email, password) };
}

export async function login(email: string, password: string): Promise<string> {
  const reply = await call('POST', '/v1/auth/login', { body: { email, password } });
  if (reply.status !== 200) throw new Error(`login ${email}: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.accessToken;
}

let adminToken: string | undefined;
export async function admin(): Promise<string> {
  adminToken ??= await waitFor('the seeded admin to sign in', () => login('admin@example.com', 'admin-password').catch(() => undefined), {
    timeoutMs: 30_000,
    intervalMs: 500,
  });
  return adminToken;
}

export async function credit(userId: string, amount: number): Promise<void> {
  const reply = await call('POST', `/v1/admin/accounts/${userId}/credit`, { token: await admin(), body: { amount } });
  if (reply.status !== 200) throw new Error(`credit: ${reply.status} ${JSON.stringify(reply.body)}`);
}

export async function createItem(quantity: number, price: number): Promise<string> {
  const sku = unique('SKU');
  const reply = await call('POST', '/v1/admin/items', { token: await admin(), body: { sku, name: `Item ${sku}`, price, quantity } });
  if (reply.status !== 201) throw new Error(`create item: ${reply.status} ${JSON.stringify(reply.body)}`);
  return sku;
}

export async function balanceOf(user: TestUser): Promise<number> {
  const reply = await call('GET', '/v1/me', { token: user.token });
  if (reply.status !== 200) throw new Error(`me: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.balance;
}

export async function itemQuantity(sku: string): Promise<number> {
  const reply = await call('GET', `/v1/items/${sku}`);
  if (reply.status !== 200) throw new Error(`item: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.quantity;
}

const TERMINAL = new Set(['COMPLETED', 'REJECTED', 'CANCELLED']);

/** Polls the buyer's purchase list (one request per poll) until each of `ids` is terminal. */
export async function waitTerminal(user: TestUser, ids: string[], timeoutMs = 60_000): Promise<Map<string, any>> {
  const wanted = new Set(ids);
  return waitFor(
    `${ids.length} purchase(s) of ${user.email} to finish`,
    async () => {
      const seen = new Map<string, any>();
      let pageToken: string | undefined;
      do {
        const reply = await call('GET', `/v1/purchases?limit=100${pageToken ? `&pageToken=${pageToken}` : ''}`, { token: user.token });
        if (reply.status !== 200) return false;
        for (const p of reply.body.items) if (wanted.has(p.purchaseId)) seen.set(p.purchaseId, p);
        pageToken = reply.body.nextPageToken ?? undefined;
      } while (pageToken && seen.size < wanted.size);
      if (seen.size < wanted.size) return false;
      for (const p of seen.values()) if (!TERMINAL.has(p.status)) return false;
      return seen;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

export async function buy(user: TestUser, sku: string, quantity = 1, key?: string, base?: string): Promise<Reply> {
  return call('POST', '/v1/purchases', { token: user.token, body: { sku, quantity }, headers: key ? { 'idempotency-key': key } : {}, base });
}
