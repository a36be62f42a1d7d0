import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  AccountErrorCodes,
  AccountView,
  BalanceView,
  Credentials,
  CREDENTIALS_CHANGED_ROUTING_KEY,
  CredentialsChanged,
  DomainError,
  Exchanges,
} from '@app/contracts';
import { RabbitPublisher } from '@app/messaging';
import { AccountEnv } from '../config/account.env';
import { LedgerService } from '../ledger/ledger.service';
import { MailPublisher } from '../mail/mail.publisher';
import { PasswordHasher } from './password-hasher';
import { User, UserRepository } from './user.repository';

export const ADMIN_ROLE = 'admin';

function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

function badCredentials(): DomainError {
  return new DomainError(AccountErrorCodes.BadCredentials, 'unauthenticated', 'The e-mail or the password is wrong.');
}

function notFound(id: string): DomainError {
  return new DomainError(AccountErrorCodes.NotFound, 'not_found', `There is no account ${id}.`);
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);
  private readonly hasher: PasswordHasher;
  /** Verified against when the e-mail is unknown, so both failures take as long. */
  private decoyHash?: Promise<string>;

  constructor(
    private readonly users: UserRepository,
    private readonly ledger: LedgerService,
    private readonly mail: MailPublisher,
    private readonly publisher: RabbitPublisher,
    env: AccountEnv,
  ) {
    this.hasher = new PasswordHasher(env.PASSWORD_SCRYPT_COST);
  }

  async register(input: { email: string; password: string; name: string }, roles: string[] = []): Promise<AccountView> {
    const user: User = {
      id: randomUUID(),
      email: input.email.trim(),
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
      throw new DomainError('ACCOUNT.CONCURRENT_CHANGE', 'conflict', 'The password was changed at the same time by another request; sign in again.');
    }
    const changed: Credentials = { ...credentialsOf(user), credentialsVersion: user.credentialsVersion + 1 };
    const event: CredentialsChanged = { userId: user.id, credentialsVersion: changed.credentialsVersion };
    await this.publisher
      .publish(Exchanges.Commerce, CREDENTIALS_CHANGED_ROUTING_KEY, event, { messageId: `credentials-changed:${user.id}:${event.credentialsVersion}` })
      .catch((error: Error) => this.logger.warn({ msg: 'CredentialsChanged not broadcast; api caches expire instead', err: error.message }));
    return changed;
  }

  async credit(userId: string, amount: number, creditId: string): Promise<BalanceView> {
    await this.require(userId);
    const outcome = await this.ledger.change(userId, `credit:${creditId}`, amount);
    return { id: userId, balance: outcome.balance };
  }

  /** Creates the admin, or gives the existing account the role; safe at every start of every instance. */
  async ensureAdmin(email: string, password: string): Promise<void> {
    const existing = await this.users.findByEmail(emailKey(email));
    if (existing) {
      if (!existing.roles.includes(ADMIN_ROLE)) await this.users.addRole(existing.id, ADMIN_ROLE);
      await this.ledger.open(existing.id);
      return;
    }
    try {
      await this.register({ email, password, name: 'Administrator' }, [ADMIN_ROLE]);
      this.logger.log({ msg: 'admin account created', email });
    } catch (error) {
      if (!(error instanceof DomainError && error.code === AccountErrorCodes.EmailExists)) throw error;
      await this.ensureAdmin(email, password);
    }
  }

  findUser(userId: string): Promise<User | undefined> {
    return this.users.findById(userId);
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
