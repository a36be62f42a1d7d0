import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  AccountErrorCodes,
  AccountView,
  BalanceView,
  Credentials,
  CredentialsChanged,
  DomainError,
  emailAddressProblem,
  MessageContracts,
} from '@app/contracts';
import { RabbitClient, RabbitRecord } from '@app/messaging';
import { LedgerService } from '../ledger/ledger.service';
import { MailPublisher } from '../mail/mail.publisher';
import { PasswordHasher } from './password-hasher';
import { User, UserRepository } from './user.repository';

export const ADMIN_ROLE = 'admin';
export const OPS_ROLE = 'ops';

export type RoleGrant = 'granted' | 'unchanged' | 'no-account';

function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

function badCredentials(): DomainError {
  return new DomainError(AccountErrorCodes.BadCredentials, 'unauthenticated', 'The e-mail or the password is wrong.');
}

function notFound(id: string): DomainError {
  return new DomainError(AccountErrorCodes.NotFound, 'not_found', `There is no account ${id}.`);
}

function adminPasswordMismatch(email: string): DomainError {
  return new DomainError(
    AccountErrorCodes.AdminPasswordMismatch,
    'conflict',
    `ADMIN_PASSWORD does not match the existing account ${email}, which is not an admin; ` +
      `set ADMIN_PASSWORD to that account's password to make it the admin, or set ADMIN_EMAIL to an address that has no account yet`,
  );
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);
  /** Verified against when the e-mail is unknown, so both failures take as long. */
  private decoyHash?: Promise<string>;

  constructor(
    private readonly users: UserRepository,
    private readonly ledger: LedgerService,
    private readonly mail: MailPublisher,
    private readonly rabbit: RabbitClient,
    private readonly hasher: PasswordHasher,
  ) {}

  async register(input: { email: string; password: string; name: string }, roles: string[] = []): Promise<AccountView> {
    const email = input.email.trim();
    const problem = emailAddressProblem(email);
    if (problem) throw new DomainError(AccountErrorCodes.InvalidEmail, 'invalid', problem);
    const user: User = {
      id: randomUUID(),
      email,
      name: input.name,
      passwordHash: await this.hasher.hash(input.password),
      roles,
      credentialsVersion: 0,
      createdAt: new Date(),
    };
    // The row first, then the e-mail claim: a crash in between leaves an unreachable row, never a
    // claimed e-mail without its user.
    await this.users.insert(user);
    const claim = await this.users.claimEmail(emailKey(user.email), user.id);
    if (!claim.won) {
      await this.users.delete(user.id);
      throw new DomainError(AccountErrorCodes.EmailExists, 'conflict', `An account with the e-mail ${user.email} already exists.`);
    }
    await this.ledger.open(user.id);
    await this.mail
      .send(`welcome:${user.id}`, user.email, 'welcome', { name: user.name })
      .catch((error: Error) => this.logger.warn({ msg: 'welcome mail not requested', userId: user.id, err: error.message }));
    return { id: user.id, email: user.email, name: user.name, balance: 0, roles: user.roles };
  }

  async login(email: string, password: string): Promise<Credentials> {
    const user = await this.users.findByEmail(emailKey(email));
    if (!user) {
      this.decoyHash ??= this.hasher.hash(randomUUID());
      await this.hasher.verify(password, await this.decoyHash);
      throw badCredentials();
    }
    if (!(await this.hasher.verify(password, user.passwordHash))) throw badCredentials();
    if (this.hasher.needsRehash(user.passwordHash)) await this.rehash(user, password);
    return credentialsOf(user);
  }

  async credentials(userId: string): Promise<Credentials> {
    return credentialsOf(await this.require(userId));
  }

  async account(userId: string): Promise<AccountView> {
    const user = await this.require(userId);
    return { id: user.id, email: user.email, name: user.name, balance: await this.ledger.balance(user.id), roles: user.roles };
  }

  /** The old password stops working at once; tokens carrying the old credentials version too. */
  async changePassword(userId: string, currentPassword: string, newPassword: string): Promise<Credentials> {
    const user = await this.require(userId);
    if (!(await this.hasher.verify(currentPassword, user.passwordHash))) {
      throw new DomainError(AccountErrorCodes.BadCredentials, 'invalid', 'The current password is wrong.');
    }
    const hash = await this.hasher.hash(newPassword);
    if (!(await this.users.changePassword(user.id, hash, user.credentialsVersion))) {
      throw new DomainError(AccountErrorCodes.ConcurrentChange, 'conflict', 'The password was changed at the same time by another request; sign in again.');
    }
    const changed: Credentials = { ...credentialsOf(user), credentialsVersion: user.credentialsVersion + 1 };
    const event: CredentialsChanged = { userId: user.id, credentialsVersion: changed.credentialsVersion };
    await this.rabbit
      .dispatch(MessageContracts.CredentialsChanged, new RabbitRecord(event, { messageId: `credentials-changed:${user.id}:${event.credentialsVersion}` }))
      .catch((error: Error) => this.logger.warn({ msg: 'CredentialsChanged not broadcast; api caches expire instead', err: error.message }));
    return changed;
  }

  async credit(userId: string, amount: number, creditId: string): Promise<BalanceView> {
    await this.require(userId);
    const outcome = await this.ledger.change(userId, `credit:${creditId}`, amount);
    return { id: userId, balance: outcome.balance };
  }

  /**
   * Creates the admin, or gives the role to the existing account when ADMIN_PASSWORD is its
   * password; safe at every start of every instance. Whoever registered that e-mail does not
   * become admin by a restart: a mismatch refuses to start. An existing admin is left as it is,
   * so an admin who changed their password can still restart the app.
   */
  async ensureAdmin(email: string, password: string): Promise<'created' | 'granted' | 'unchanged'> {
    const existing = await this.users.findByEmail(emailKey(email));
    if (existing) {
      let outcome: 'granted' | 'unchanged' = 'unchanged';
      if (!existing.roles.includes(ADMIN_ROLE)) {
        if (!(await this.hasher.verify(password, existing.passwordHash))) throw adminPasswordMismatch(email);
        await this.users.addRole(existing.id, ADMIN_ROLE);
        outcome = 'granted';
      }
      await this.ledger.open(existing.id);
      return outcome;
    }
    try {
      await this.register({ email, password, name: 'Administrator' }, [ADMIN_ROLE]);
      return 'created';
    } catch (error) {
      if (!(error instanceof DomainError && error.code === AccountErrorCodes.EmailExists)) throw error;
      return this.ensureAdmin(email, password);
    }
  }

  /** Gives `role` to the account with `email`, when there is one; idempotent. */
  async grantRole(email: string, role: string): Promise<RoleGrant> {
    const user = await this.users.findByEmail(emailKey(email));
    if (!user) return 'no-account';
    if (user.roles.includes(role)) return 'unchanged';
    await this.users.addRole(user.id, role);
    return 'granted';
  }

  findUser(userId: string): Promise<User | undefined> {
    return this.users.findById(userId);
  }

  /** Best effort: the login has succeeded whatever happens here, and the next one tries again. */
  private async rehash(user: User, password: string): Promise<void> {
    try {
      const replaced = await this.users.replacePasswordHash(user.id, await this.hasher.hash(password), user.passwordHash);
      if (replaced) this.logger.log({ msg: 'password hash upgraded to the configured scrypt parameters', userId: user.id });
    } catch (error) {
      this.logger.warn({ msg: 'upgraded password hash not stored', userId: user.id, err: (error as Error).message });
    }
  }

  private async require(userId: string): Promise<User> {
    const user = await this.users.findById(userId);
    if (!user) throw notFound(userId);
    return user;
  }
}

function credentialsOf(user: User): Credentials {
  return { id: user.id, email: user.email, roles: user.roles, credentialsVersion: user.credentialsVersion };
}
