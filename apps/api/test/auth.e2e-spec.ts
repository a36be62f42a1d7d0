import { createHmac } from 'node:crypto';
import { admin, call, login, registerUser, unique } from './support/commerce';

jest.setTimeout(60_000);

function forge(claims: object, secret: string, alg = 'HS256'): string {
  const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

function claimsOf(token: string): any {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

describe('accounts and auth (e2e)', () => {
  it('registers, signs in and shows the account', async () => {
    const email = `${unique('reg')}@example.test`;
    const created = await call('POST', '/v1/accounts', { body: { email, password: 'a-long-password', name: 'Ada' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), email, name: 'Ada', balance: 0 });

    const again = await call('POST', '/v1/accounts', { body: { email: email.toUpperCase(), password: 'another-password', name: 'Eve' } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ statusCode: 409, error: 'Conflict', message: expect.stringContaining('already exists') });

    const loggedIn = await call('POST', '/v1/auth/login', { body: { email, password: 'a-long-password' } });
    expect(loggedIn.status).toBe(200);
    expect(loggedIn.body).toMatchObject({ accessToken: expect.any(String), expiresIn: 900 });

    const me = await call('GET', '/v1/me', { token: loggedIn.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ id: created.body.id, email, name: 'Ada', balance: 0, roles: [] });
  });

  it('rejects bad registrations and bad credentials with a clear message', async () => {
    const short = await call('POST', '/v1/accounts', { body: { email: `${unique('x')}@example.test`, password: 'short', name: 'X' } });
    expect(short.status).toBe(400);
    expect(short.body.message).toMatch(/password/);
    const bad = await call('POST', '/v1/auth/login', { body: { email: `${unique('nobody')}@example.test`, password: 'whatever-it-is' } });
    expect(bad.status).toBe(401);
    expect(bad.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
  });

  it('answers 401 without a token, with a tampered, expired or foreign token', async () => {
    const user = await registerUser('auth');
    expect((await call('GET', '/v1/me')).status).toBe(401);
    expect((await call('GET', '/v1/purchases')).status).toBe(401);
    expect((await call('GET', '/v1/me', { token: 'not-a-jwt' })).status).toBe(401);

    const [h, p, s] = user.token.split('.');
    const claims = claimsOf(user.token);
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${s}`;
    expect((await call('GET', '/v1/me', { token: tampered })).status).toBe(401);
    expect((await call('GET', '/v1/me', { token: `${h}.${p}.${s.slice(0, -2)}xx` })).status).toBe(401);

    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
    expect((await call('GET', '/v1/me', { token: none })).status).toBe(401);

    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = forge({ ...claims, iat: past - 900, exp: past }, 'dev-only-jwt-secret-do-not-use-in-production');
    const reply = await call('GET', '/v1/me', { token: expired });
    expect(reply.status).toBe(401);
    expect(reply.body.message).toMatch(/expired/);

    const otherSecret = forge(claims, 'some-other-secret-of-at-least-32-characters');
    expect((await call('GET', '/v1/me', { token: otherSecret })).status).toBe(401);
    const otherAudience = forge({ ...claims, aud: 'someone-else' }, 'dev-only-jwt-secret-do-not-use-in-production');
    expect((await call('GET', '/v1/me', { token: otherAudience })).status).toBe(401);

    expect((await call('GET', '/v1/me', { token: user.token })).status).toBe(200);
  });

  it('answers 403 to a user on admin routes, and lets the seeded admin in', async () => {
    const user = await registerUser('notadmin');
    const forbidden = await call('POST', `/v1/admin/accounts/${user.id}/credit`, { token: user.token, body: { amount: 100 } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });

    const token = await admin();
    const me = await call('GET', '/v1/me', { token });
    expect(me.body.roles).toContain('admin');
    const credited = await call('POST', `/v1/admin/accounts/${user.id}/credit`, { token, body: { amount: 1234 } });
    expect(credited.status).toBe(200);
    expect(credited.body).toEqual({ id: user.id, balance: 1234 });
    expect((await call('POST', `/v1/admin/accounts/${user.id}/credit`, { token, body: { amount: 0 } })).status).toBe(400);
    expect((await call('POST', `/v1/admin/accounts/no-such-user/credit`, { token, body: { amount: 5 } })).status).toBe(404);
  });

  it('an admin credit with an Idempotency-Key counts once', async () => {
    const user = await registerUser('credit');
    const token = await admin();
    const key = unique('credit-key');
    const replies = await Promise.all(
      [1, 2, 3].map(() => call('POST', `/v1/admin/accounts/${user.id}/credit`, { token, body: { amount: 500 }, headers: { 'idempotency-key': key } })),
    );
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await call('GET', '/v1/me', { token: user.token })).body.balance).toBe(500);
  });

  it('after a password change the old password and the old tokens stop working', async () => {
    const user = await registerUser('pwd');
    const wrong = await call('PUT', '/v1/me/password', { token: user.token, body: { currentPassword: 'not-it-at-all', newPassword: 'brand-new-password' } });
    expect(wrong.status).toBe(400);

    const changed = await call('PUT', '/v1/me/password', { token: user.token, body: { currentPassword: user.password, newPassword: 'brand-new-password' } });
    expect(changed.status).toBe(204);

    expect((await call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(401);
    expect((await call('GET', '/v1/me', { token: user.token })).status).toBe(401);
    const fresh = await login(user.email, 'brand-new-password');
    expect((await call('GET', '/v1/me', { token: fresh })).status).toBe(200);
  });
});
