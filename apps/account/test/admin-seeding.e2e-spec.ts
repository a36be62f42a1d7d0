import { E2E_PORT_BASE, ExtraApp, startExtraApp, waitFor } from '@app/testing';
import { call, registerUser, TestUser } from '../../api/test/support/commerce';

jest.setTimeout(120_000);

/** A second account instance beside the test system's, on its own port, sharing its Cassandra and RabbitMQ. */
const SECOND_ACCOUNT_PORT = E2E_PORT_BASE + 20;

function startSecondAccount(adminEmail: string, adminPassword: string, extra: Record<string, string> = {}): ExtraApp {
  return startExtraApp('account', SECOND_ACCOUNT_PORT, { ...extra, ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: adminPassword });
}

/** `promise`'s value, or 'timeout' after `ms`; the timer does not outlive it. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function rolesOf(user: TestUser): Promise<string[]> {
  const me = await call('GET', '/v1/me', { token: user.token });
  if (me.status !== 200) throw new Error(`me: ${me.status} ${JSON.stringify(me.body)}`);
  return me.body.roles;
}

describe('admin seeding (e2e)', () => {
  let second: ExtraApp | undefined;

  afterEach(async () => {
    await second?.stop();
    second = undefined;
  });

  it('refuses to start when ADMIN_EMAIL is an existing non-admin account and ADMIN_PASSWORD is not its password', async () => {
    const user = await registerUser('seed-squat');
    const wrongPassword = 'not-the-accounts-password';

    second = startSecondAccount(user.email, wrongPassword);
    const code = await within(second.exited, 90_000);

    expect(code).toBe(1);
    const lines = second.errors().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^account: failed to start: ADMIN_PASSWORD does not match the existing account /);
    expect(lines[0]).toContain(user.email);
    expect(lines[0]).not.toContain(wrongPassword);

    // Signing in again reads the roles afresh from account.
    const token = (await call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })).body.accessToken;
    expect(await rolesOf({ ...user, token })).not.toContain('admin');
  });

  it('starts and makes the existing account the admin when ADMIN_PASSWORD is its password; OPS_EMAILS accounts get ops', async () => {
    const user = await registerUser('seed-admin');
    const operator = await registerUser('seed-ops');
    expect(await rolesOf(user)).toEqual([]);

    second = startSecondAccount(user.email, user.password, { OPS_EMAILS: `${operator.email}, nobody-${operator.id}@example.test` });
    await second.ready(90_000);

    // The api trusts what it learned of a user's roles for up to CREDENTIALS_CACHE_TTL_MS (5 s in tests).
    await waitFor('the account to have the admin role', async () => (await rolesOf(user)).includes('admin'), { timeoutMs: 20_000, intervalMs: 250 });
    await waitFor(
      'an admin route to accept the account',
      async () => (await call('POST', `/v1/admin/accounts/${user.id}/credit`, { token: user.token, body: { amount: 1 } })).status === 200,
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    await waitFor('the OPS_EMAILS account to have the ops role', async () => (await rolesOf(operator)).includes('ops'), { timeoutMs: 20_000, intervalMs: 250 });
    expect(await rolesOf(operator)).not.toContain('admin');
    expect(second.errors()).toBe('');
  });
});
