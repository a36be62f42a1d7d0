import 'reflect-metadata';
import { validateEnv } from '@app/config';
import { AccountEnv } from '../config/account.env';
import { AdminSeeder } from './admin-seeder';
import { OPS_ROLE, RoleGrant, UsersService } from './users.service';

const accountEnv = (vars: Record<string, string> = {}) => validateEnv(AccountEnv, { NODE_ENV: 'test', ...vars });

describe(AdminSeeder.name, () => {
  it('ensures the admin, then gives every OPS_EMAILS account the ops role, skipping addresses without one', async () => {
    const calls: string[] = [];
    const outcomes: Record<string, RoleGrant> = { 'a@example.com': 'granted', 'b@example.com': 'no-account', 'c@example.com': 'unchanged' };
    const users = {
      ensureAdmin: async (email: string) => void calls.push(`admin ${email}`),
      grantRole: async (email: string, role: string) => (calls.push(`${role} ${email}`), outcomes[email]),
    } as unknown as UsersService;
    const env = accountEnv({ OPS_EMAILS: 'a@example.com, b@example.com,c@example.com' });
    const sut = new AdminSeeder(users, env);
    await sut.onApplicationBootstrap();
    expect(calls).toEqual(['admin admin@example.com', `${OPS_ROLE} a@example.com`, `${OPS_ROLE} b@example.com`, `${OPS_ROLE} c@example.com`]);
  });

  it('does not go on to the ops roles when the admin is refused', async () => {
    const grantRole = jest.fn();
    const users = { ensureAdmin: async () => Promise.reject(new Error('ADMIN_PASSWORD does not match')), grantRole } as unknown as UsersService;
    const sut = new AdminSeeder(users, accountEnv({ OPS_EMAILS: 'a@example.com' }));
    await expect(sut.onApplicationBootstrap()).rejects.toThrow('ADMIN_PASSWORD does not match');
    expect(grantRole).not.toHaveBeenCalled();
  });
});

describe('OPS_EMAILS', () => {
  it('defaults to none', () => {
    expect(accountEnv().opsEmails).toEqual([]);
  });

  it.each(['a@example.com,', 'a@example.com;b@example.com', '"x"@evil.com', 'not-an-address'])('refuses %j, naming the variable', (value) => {
    expect(() => accountEnv({ OPS_EMAILS: value })).toThrow(/OPS_EMAILS must be a comma-separated list of e-mail addresses/);
  });

  it('scrypt settings default to N=2^14, p=5 and refuse a cost that is not a power of two', () => {
    const env = accountEnv();
    expect([env.PASSWORD_SCRYPT_COST, env.PASSWORD_SCRYPT_PARALLELISM]).toEqual([16_384, 5]);
    expect(() => accountEnv({ PASSWORD_SCRYPT_COST: '20000' })).toThrow(/PASSWORD_SCRYPT_COST must be a power of two/);
    expect(() => accountEnv({ PASSWORD_SCRYPT_PARALLELISM: '0' })).toThrow(/PASSWORD_SCRYPT_PARALLELISM/);
  });
});
