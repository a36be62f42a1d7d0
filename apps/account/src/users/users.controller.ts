import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AccountRpc, ChangePasswordRequest, CreditRequest, LoginRequest, RegisterRequest, UserRequest } from '@app/contracts';
import { RabbitRpc } from '@app/messaging';
import { UsersService } from './users.service';

/** Accounts, credentials and credits, answered over RabbitMQ RPC. */
@Controller()
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @RabbitRpc(AccountRpc.Register)
  register(@Payload() request: RegisterRequest) {
    return this.users.register(request);
  }

  @RabbitRpc(AccountRpc.Login)
  login(@Payload() request: LoginRequest) {
    return this.users.login(request.email, request.password);
  }

  @RabbitRpc(AccountRpc.GetCredentials)
  credentials(@Payload() request: UserRequest) {
    return this.users.credentials(request.userId);
  }

  @RabbitRpc(AccountRpc.GetAccount)
  account(@Payload() request: UserRequest) {
    return this.users.account(request.userId);
  }

  @RabbitRpc(AccountRpc.ChangePassword)
  changePassword(@Payload() request: ChangePasswordRequest) {
    return this.users.changePassword(request.userId, request.currentPassword, request.newPassword);
  }

  @RabbitRpc(AccountRpc.Credit)
  credit(@Payload() request: CreditRequest) {
    return this.users.credit(request.userId, request.amount, request.creditId);
  }
}
