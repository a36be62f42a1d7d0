import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import {
  AccountErrorCodes,
  AccountRpcQueues,
  Credentials,
  CREDENTIALS_CHANGED_ROUTING_KEY,
  CredentialsChanged,
  decodeMessage,
  DomainError,
  Exchanges,
  UserRequest,
} from '@app/contracts';
import { RABBITMQ_CONNECTION, RabbitRpcClient } from '@app/messaging';
import { ApiEnv } from '../config/api.env';

interface Entry {
  credentials: Credentials;
  expiresAt: number;
}

/**
 * What the api knows of each user's credentials version and roles, so a token issued before a
 * password change is refused. Account is the source of truth: a miss asks it over RPC, an entry
 * lives CREDENTIALS_CACHE_TTL_MS, and every api instance hears `CredentialsChanged` on its own
 * exclusive queue, so a change is enforced at once everywhere (the TTL bounds the damage of a
 * lost broadcast, e.g. while the broker restarts).
 */
@Injectable()
export class CredentialsCache implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CredentialsCache.name);
  private readonly entries = new Map<string, Entry>();
  /** Versions heard of before any lookup: a late RPC answer never lowers them. */
  private readonly floors = new Map<string, number>();
  private channel?: ChannelWrapper;

  constructor(
    private readonly rpc: RabbitRpcClient,
    private readonly env: ApiEnv,
    @Inject(RABBITMQ_CONNECTION) private readonly connection: AmqpConnectionManager,
  ) {}

  onModuleInit(): void {
    this.channel = this.connection.createChannel({
      name: 'credentials-changed',
      setup: async (ch: Channel) => {
        await ch.assertExchange(Exchanges.Commerce, 'topic', { durable: true });
        // Server-named, exclusive: one per api instance, gone with it; a fanout of a topic key.
        const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
        await ch.bindQueue(queue, Exchanges.Commerce, CREDENTIALS_CHANGED_ROUTING_KEY);
        await ch.consume(queue, (message) => message && this.onChanged(message), { noAck: true });
      },
    });
  }

  async get(userId: string): Promise<Credentials> {
    const now = Date.now();
    const cached = this.entries.get(userId);
    if (cached && cached.expiresAt > now) return cached.credentials;
    try {
      const fresh = await this.rpc.request<Credentials>(AccountRpcQueues.GetCredentials, { userId } satisfies UserRequest, {
        timeoutMs: this.env.RPC_TIMEOUT_MS,
      });
      this.remember(fresh);
      return this.entries.get(userId)!.credentials;
    } catch (error) {
      if (error instanceof DomainError && error.code === AccountErrorCodes.NotFound) {
        this.entries.delete(userId);
        throw new DomainError('AUTH.UNKNOWN_USER', 'unauthenticated', 'The account of this token no longer exists.');
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

  private onChanged(message: ConsumeMessage): void {
    const decoded = decodeMessage(CredentialsChanged, message.content);
    if (!decoded.ok) {
      this.logger.warn({ msg: 'ignoring an invalid CredentialsChanged', reason: decoded.reason });
      return;
    }
    const { userId, credentialsVersion } = decoded.value;
    this.floors.set(userId, Math.max(this.floors.get(userId) ?? 0, credentialsVersion));
    const cached = this.entries.get(userId);
    if (cached && cached.credentials.credentialsVersion < credentialsVersion) this.entries.delete(userId);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.channel?.close();
  }
}
