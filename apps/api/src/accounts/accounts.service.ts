import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { AccountRpc, BalanceView, ChangePasswordRequest, CreditRequest, LoginRequest, RegisterRequest, UserRequest } from '@app/contracts';
import { RabbitClient, RabbitRecord } from '@app/messaging';
import { CredentialsCache, TokenService } from '../auth';
import { ApiEnv } from '../config/api.env';
import { ChangePasswordRequestDto, CreateAccountRequestDto, LoginRequestDto } from './dto/accounts.request.dto';

/** The api's side of accounts: account owns the data and answers over RPC; the api issues tokens. */
@Injectable()
export class AccountsService {
  constructor(
    private readonly rabbit: RabbitClient,
    private readonly tokens: TokenService,
    private readonly credentials: CredentialsCache,
    private readonly env: ApiEnv,
  ) {}

  async register(dto: CreateAccountRequestDto) {
    const account = await this.rabbit.request(AccountRpc.Register, this.withPassword<RegisterRequest>(dto));
    return { id: account.id, email: account.email, name: account.name, balance: account.balance };
  }

  async login(dto: LoginRequestDto) {
    const credentials = await this.rabbit.request(AccountRpc.Login, this.withPassword<LoginRequest>(dto));
    this.credentials.remember(credentials);
    return { accessToken: this.tokens.sign(credentials), tokenType: 'Bearer', expiresIn: this.tokens.ttlSeconds };
  }

  async me(userId: string) {
    const account = await this.rabbit.request(AccountRpc.GetAccount, { userId } satisfies UserRequest);
    return { id: account.id, email: account.email, name: account.name, balance: account.balance, roles: account.roles };
  }

  async changePassword(userId: string, dto: ChangePasswordRequestDto): Promise<void> {
    const request: ChangePasswordRequest = { userId, ...dto };
    this.credentials.remember(await this.rabbit.request(AccountRpc.ChangePassword, this.withPassword(request)));
  }

  /** An `Idempotency-Key` makes a retried credit count once; without one every request credits. */
  credit(adminId: string, userId: string, amount: number, idempotencyKey?: string): Promise<BalanceView> {
    const creditId = idempotencyKey ? createHash('sha256').update(`${adminId}\n${userId}\n${idempotencyKey}`).digest('hex') : randomUUID();
    return this.rabbit.request(AccountRpc.Credit, { userId, amount, creditId } satisfies CreditRequest);
  }

  /** Registration, login and password changes hash a password: they get the longer PASSWORD_RPC_TIMEOUT_MS. */
  private withPassword<T>(request: T): RabbitRecord<T> {
    return new RabbitRecord(request, { timeoutMs: this.env.PASSWORD_RPC_TIMEOUT_MS });
  }
}
