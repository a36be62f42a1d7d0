import { Injectable, OnModuleInit } from '@nestjs/common';
import { AccountRpcQueues, ChangePasswordRequest, CreditRequest, LoginRequest, RegisterRequest, UserRequest } from '@app/contracts';
import { RabbitConsumers } from '@app/messaging';
import { UsersService } from './users.service';

@Injectable()
export class UsersRpcConsumer implements OnModuleInit {
  constructor(
    private readonly consumers: RabbitConsumers,
    private readonly users: UsersService,
  ) {}

  onModuleInit(): void {
    const rpc = <T extends object>(queue: string, contract: new () => T, handle: (request: T) => Promise<unknown>) =>
      this.consumers.register({ queue, contract, rpc: true, handle });
    rpc(AccountRpcQueues.Register, RegisterRequest, (r) => this.users.register(r));
    rpc(AccountRpcQueues.Login, LoginRequest, (r) => this.users.login(r.email, r.password));
    rpc(AccountRpcQueues.GetCredentials, UserRequest, (r) => this.users.credentials(r.userId));
    rpc(AccountRpcQueues.GetAccount, UserRequest, (r) => this.users.account(r.userId));
    rpc(AccountRpcQueues.ChangePassword, ChangePasswordRequest, (r) => this.users.changePassword(r.userId, r.currentPassword, r.newPassword));
    rpc(AccountRpcQueues.Credit, CreditRequest, (r) => this.users.credit(r.userId, r.amount, r.creditId));
  }
}
