import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import {
  AccountRpcQueues,
  AccountView,
  BalanceView,
  ChangePasswordRequest,
  Credentials,
  CreditRequest,
  LoginRequest,
  RegisterRequest,
  UserRequest,
} from '@app/contracts';
import { RabbitRpcClient } from '@app/messaging';
import { CredentialsCache, TokenService } from '../auth';
import { ApiEnv } from '../config/api.env';
import { ChangePasswordRequestDto, CreateAccountRequestDto, LoginRequestDto } from './dto/accounts.request.dto';

/** The api's side of accounts: account owns the data and answers over RPC; the api issues tokens. */
@Injectable()
export class AccountsService {
  constructor(
    private readonly rpc: RabbitRpcClient,
    private readonly tokens: TokenService,
    private readonly credentials: CredentialsCache,
    private readonly env: ApiEnv,
  ) {}

  async register(dto: CreateAccountRequestDto) {
    const account = await this.call<AccountView>(AccountRpcQueues.Register, dto satisfies RegisterRequest, this.env.PASSWORD_RPC_TIMEOUT_MS);
    return { id: account.id, email: account.email, name: account.name, balance: account.balance };
  }

  async login(dto: LoginRequestDto) {
    const credentials = await this.call<Credentials>(AccountRpcQueues.Login, dto satisfies LoginRequest, this.env.PASSWORD_RPC_TIMEOUT_MS);
    this.credentials.remember(credentials);
    return { accessToken: this.tokens.sign(credentials), tokenType: 'Bearer', expiresIn: this.tokens.ttlSeconds };
  }

  async me(userId: string) {
    const account = await this.call<AccountView>(AccountRpcQueues.GetAccount, { userId } satisfies UserRequest);
    return { id: account.id, email: account.email, name: account.name, balance: account.balance, roles: account.roles };
  }

  async changePassword(userId: string, dto: ChangePasswordRequestDto): Promise<void> {
    const request: ChangePasswordRequest = { userId, ...dto };
    this.credentials.remember(await this.call<Credentials>(AccountRpcQueues.ChangePassword, request, this.env.PASSWORD_RPC_TIMEOUT_MS));
  }

  /** An `Idempotency-Key` makes a retried credit count once; without one every request credits. */
  credit(adminId: string, userId: string, amount: number, idempotencyKey?: string): Promise<BalanceView> {
    const creditId = idempotencyKey ? createHash('sha256').update(`${adminId}\n${userId}\n${idempotencyKey}`).digest('hex') : randomUUID();
    return this.call<BalanceView>(AccountRpcQueues.Credit, { userId, amount, creditId } satisfies CreditRequest);
  }

  private call<R>(queue: string, request: object, timeoutMs = this.env.RPC_TIMEOUT_MS): Promise<R> {
    return this.rpc.request<R>(queue, request, { timeoutMs });
  }
}
