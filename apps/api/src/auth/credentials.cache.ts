import { Controller, Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AccountErrorCodes, AccountRpc, Credentials, CredentialsChanged, DomainError, MessageContracts, UserRequest } from '@app/contracts';
import { RabbitClient, RabbitEvent } from '@app/messaging';
import { ApiEnv } from '../config/api.env';
import { AuthErrorCodes } from './auth-errors';

interface Entry {
  credentials: Credentials;
  expiresAt: number;
}

/**
 * What the api knows of each user's credentials version and roles, so a token issued before a
 * password change is refused. Account is the source of truth: a miss asks it over RPC, an entry
 * lives CREDENTIALS_CACHE_TTL_MS, and every api instance hears `CredentialsChanged` on its own
 * broadcast queue ({@link CredentialsChangedController}), so a change is enforced at once
 * everywhere (the TTL bounds the damage of a lost broadcast, e.g. while the broker restarts).
 */
@Injectable()
export class CredentialsCache {
  private readonly entries = new Map<string, Entry>();
  /** Versions heard of before any lookup: a late RPC answer never lowers them. */
  private readonly floors = new Map<string, number>();

  constructor(
    private readonly rabbit: RabbitClient,
    private readonly env: ApiEnv,
  ) {}

  async get(userId: string): Promise<Credentials> {
    const now = Date.now();
    const cached = this.entries.get(userId);
    if (cached && cached.expiresAt > now) return cached.credentials;
    try {
      const fresh = await this.rabbit.request(AccountRpc.GetCredentials, { userId } satisfies UserRequest);
      this.remember(fresh);
      return this.entries.get(userId)!.credentials;
    } catch (error) {
      if (error instanceof DomainError && error.code === AccountErrorCodes.NotFound) {
        this.entries.delete(userId);
        throw new DomainError(AuthErrorCodes.UnknownUser, 'unauthenticated', 'The account of this token no longer exists.');
      }
      // Account unreachable: what we knew is better than refusing everyone.
      if (cached && error instanceof DomainError && error.retryable) return cached.credentials;
      throw error;
    }
  }

  /** Called with what account answered to a login or a password change. */
  remember(credentials: Credentials): void {
    const floor = this.floors.get(credentials.id) ?? 0;
    const version = Math.max(floor, credentials.credentialsVersion);
    this.entries.set(credentials.id, {
      credentials: { ...credentials, credentialsVersion: version },
      expiresAt: Date.now() + this.env.CREDENTIALS_CACHE_TTL_MS,
    });
  }

  /** A password changed somewhere: tokens older than `credentialsVersion` are void from now on. */
  changed({ userId, credentialsVersion }: CredentialsChanged): void {
    this.floors.set(userId, Math.max(this.floors.get(userId) ?? 0, credentialsVersion));
    const cached = this.entries.get(userId);
    if (cached && cached.credentials.credentialsVersion < credentialsVersion) this.entries.delete(userId);
  }
}

/** Every api instance's broadcast queue of `CredentialsChanged`. */
@Controller()
export class CredentialsChangedController {
  constructor(private readonly cache: CredentialsCache) {}

  @RabbitEvent(MessageContracts.CredentialsChanged)
  changed(@Payload() event: CredentialsChanged): void {
    this.cache.changed(event);
  }
}
