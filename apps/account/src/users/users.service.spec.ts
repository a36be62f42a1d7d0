import 'reflect-metadata';
import { AccountErrorCodes, DomainError } from '@app/contracts';
import { RabbitClient } from '@app/messaging';
import { LedgerService } from '../ledger/ledger.service';
import { MailPublisher } from '../mail/mail.publisher';
import { PasswordHasher } from './password-hasher';
import { User, UserRepository } from './user.repository';
import { ADMIN_ROLE, OPS_ROLE, UsersService } from './users.service';

/** The users tables in memory, with the repository's claim and compare-and-set semantics. */
class FakeUsers {
  rows = new Map<string, User>();
  byEmail = new Map<string, string>();
  /** A rival registration that claims the e-mail first, as another instance would. */
  beforeClaim?: (emailKey: string) => void;
  failReplace = false;

  add(user: Partial<User> & { email: string }): User {
    const full: User = {
      id: `u${this.rows.size + 1}`,
      name: 'N',
      passwordHash: 'hash:secret',
      roles: [],
      credentialsVersion: 0,
      createdAt: new Date(),
      ...user,
    };
    this.rows.set(full.id, full);
    this.byEmail.set(full.email.toLowerCase(), full.id);
    return full;
  }
  async insert(user: User) {
    this.rows.set(user.id, { ...user });
  }
  async delete(id: string) {
    this.rows.delete(id);
  }
  async claimEmail(emailKey: string, userId: string) {
    this.beforeClaim?.(emailKey);
    const owner = this.byEmail.get(emailKey);
    if (owner) return { won: false, owner };
    this.byEmail.set(emailKey, userId);
    return { won: true, owner: userId };
  }
  async findById(id: string) {
    const user = this.rows.get(id);
    return user && { ...user, roles: [...user.roles] };
  }
  async findByEmail(emailKey: string) {
    const id = this.byEmail.get(emailKey);
    return id ? this.findById(id) : undefined;
  }
  async addRole(id: string, role: string) {
    const user = this.rows.get(id)!;
    if (!user.roles.includes(role)) user.roles.push(role);
  }
  async replacePasswordHash(id: string, hash: string, verified: string) {
    if (this.failReplace) throw new Error('cassandra timed out');
    const user = this.rows.get(id)!;
    if (user.passwordHash !== verified) return false;
    user.passwordHash = hash;
    return true;
  }
}

/** `hash:<password>` for a password; `needsRehash` for hashes marked `:old`. */
class StubHasher {
  verified: string[] = [];
  async hash(password: string) {
    return `hash:${password}`;
  }
  async verify(password: string, stored: string) {
    this.verified.push(stored);
    return stored.replace(/:old$/, '') === `hash:${password}`;
  }
  needsRehash(stored: string) {
    return stored.endsWith(':old');
  }
}

function setup() {
  const users = new FakeUsers();
  const hasher = new StubHasher();
  const opened: string[] = [];
  const ledger = { open: async (id: string) => void opened.push(id) } as unknown as LedgerService;
  const mail = { send: async () => undefined } as unknown as MailPublisher;
  const publisher = { dispatch: async () => undefined } as unknown as RabbitClient;
  const sut = new UsersService(users as unknown as UserRepository, ledger, mail, publisher, hasher as unknown as PasswordHasher);
  return { sut, users, hasher, opened };
}

describe(UsersService.name, () => {
  describe('ensureAdmin', () => {
    it('creates the admin when the e-mail has no account', async () => {
      const { sut, users, opened } = setup();
      expect(await sut.ensureAdmin('admin@example.com', 'admin-password')).toBe('created');
      const admin = (await users.findByEmail('admin@example.com'))!;
      expect(admin.roles).toEqual([ADMIN_ROLE]);
      expect(admin.passwordHash).toBe('hash:admin-password');
      expect(opened).toEqual([admin.id]);
    });

    it('gives the role to an existing account whose password is ADMIN_PASSWORD', async () => {
      const { sut, users, opened } = setup();
      const existing = users.add({ email: 'Boss@Example.com', passwordHash: 'hash:admin-password' });
      expect(await sut.ensureAdmin('boss@example.com', 'admin-password')).toBe('granted');
      expect(users.rows.get(existing.id)!.roles).toEqual([ADMIN_ROLE]);
      expect(opened).toEqual([existing.id]);
    });

    it('refuses, naming ADMIN_PASSWORD and never the password, when an existing non-admin account has another password', async () => {
      const { sut, users } = setup();
      const existing = users.add({ email: 'admin@example.com', passwordHash: 'hash:squatter-password' });
      const refusal = await sut.ensureAdmin('admin@example.com', 'admin-password').catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(DomainError);
      expect((refusal as DomainError).message).toMatch(/^ADMIN_PASSWORD does not match the existing account admin@example\.com, which is not an admin; /);
      expect((refusal as DomainError).message).not.toContain('admin-password');
      expect((refusal as DomainError).message).not.toMatch(/\n/);
      expect(users.rows.get(existing.id)!.roles).toEqual([]);
    });

    it('leaves an existing admin alone without checking the password (it may have been changed since)', async () => {
      const { sut, users, hasher, opened } = setup();
      const existing = users.add({ email: 'admin@example.com', passwordHash: 'hash:changed-later', roles: [ADMIN_ROLE] });
      expect(await sut.ensureAdmin('admin@example.com', 'admin-password')).toBe('unchanged');
      expect(hasher.verified).toEqual([]);
      expect(opened).toEqual([existing.id]);
    });

    it('when another instance creates the admin at the same moment, ends with the one admin it created', async () => {
      const { sut, users } = setup();
      users.beforeClaim = () => {
        users.beforeClaim = undefined;
        users.add({ email: 'admin@example.com', passwordHash: 'hash:admin-password', roles: [ADMIN_ROLE] });
      };
      expect(await sut.ensureAdmin('admin@example.com', 'admin-password')).toBe('unchanged');
      expect([...users.rows.values()].filter((u) => u.email === 'admin@example.com')).toHaveLength(1);
    });

    it('when someone registers the e-mail at the same moment with another password, refuses', async () => {
      const { sut, users } = setup();
      users.beforeClaim = () => {
        users.beforeClaim = undefined;
        users.add({ email: 'admin@example.com', passwordHash: 'hash:squatter-password' });
      };
      await expect(sut.ensureAdmin('admin@example.com', 'admin-password')).rejects.toThrow(/^ADMIN_PASSWORD does not match/);
    });
  });

  describe('grantRole', () => {
    it('gives the role once, and says when there is no account', async () => {
      const { sut, users } = setup();
      const ops = users.add({ email: 'ops@example.com' });
      expect(await sut.grantRole('OPS@example.com', OPS_ROLE)).toBe('granted');
      expect(await sut.grantRole('ops@example.com', OPS_ROLE)).toBe('unchanged');
      expect(users.rows.get(ops.id)!.roles).toEqual([OPS_ROLE]);
      expect(await sut.grantRole('nobody@example.com', OPS_ROLE)).toBe('no-account');
    });
  });

  describe('login', () => {
    it('stores a hash with the configured parameters when the stored one is weaker, keeping the credentials version', async () => {
      const { sut, users } = setup();
      const user = users.add({ email: 'a@example.com', passwordHash: 'hash:pw-12345678:old', credentialsVersion: 3 });
      expect(await sut.login('a@example.com', 'pw-12345678')).toMatchObject({ id: user.id, credentialsVersion: 3 });
      expect(users.rows.get(user.id)!.passwordHash).toBe('hash:pw-12345678');
      expect(users.rows.get(user.id)!.credentialsVersion).toBe(3);
    });

    it('still signs in when the stronger hash cannot be stored', async () => {
      const { sut, users } = setup();
      const user = users.add({ email: 'a@example.com', passwordHash: 'hash:pw-12345678:old' });
      users.failReplace = true;
      expect(await sut.login('a@example.com', 'pw-12345678')).toMatchObject({ id: user.id });
      expect(users.rows.get(user.id)!.passwordHash).toBe('hash:pw-12345678:old');
    });

    it('rehashes nothing on a wrong password', async () => {
      const { sut, users } = setup();
      const user = users.add({ email: 'a@example.com', passwordHash: 'hash:pw-12345678:old' });
      await expect(sut.login('a@example.com', 'wrong-password')).rejects.toMatchObject({ code: AccountErrorCodes.BadCredentials });
      expect(users.rows.get(user.id)!.passwordHash).toBe('hash:pw-12345678:old');
    });
  });

  describe('register', () => {
    it.each(['"a@b"@example.com', '"x"@evil.com', `${'a'.repeat(250)}@x.io`, 'a\u0007@example.com'])(
      'refuses %j as invalid before storing anything',
      async (email) => {
        const { sut, users } = setup();
        await expect(sut.register({ email, password: 'pw-12345678', name: 'N' })).rejects.toMatchObject({
          code: AccountErrorCodes.InvalidEmail,
          kind: 'invalid',
        });
        expect(users.rows.size).toBe(0);
      },
    );
  });
});
