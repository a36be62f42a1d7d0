import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put } from '@nestjs/common';
import { UuidPath } from '@app/http';
import { Auth, AuthUser, CurrentUser } from '../auth';
import { AuthRateLimited } from '../rate-limit/rate-limit.module';
import { idempotencyKey } from '../purchases/idempotency-key';
import { AccountsService } from './accounts.service';
import { ChangePasswordRequestDto, CreateAccountRequestDto, CreditRequestDto, LoginRequestDto } from './dto/accounts.request.dto';

@Controller('v1')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('accounts')
  @AuthRateLimited()
  @HttpCode(201)
  register(@Body() body: CreateAccountRequestDto) {
    return this.accounts.register(body);
  }

  @Post('auth/login')
  @AuthRateLimited()
  @HttpCode(200)
  login(@Body() body: LoginRequestDto) {
    return this.accounts.login(body);
  }

  @Get('me')
  @Auth()
  me(@CurrentUser() user: AuthUser) {
    return this.accounts.me(user.id);
  }

  @Put('me/password')
  @AuthRateLimited()
  @Auth()
  @HttpCode(204)
  async changePassword(@CurrentUser() user: AuthUser, @Body() body: ChangePasswordRequestDto): Promise<void> {
    await this.accounts.changePassword(user.id, body);
  }

  @Post('admin/accounts/:id/credit')
  @Auth('admin')
  @HttpCode(200)
  credit(
    @CurrentUser() admin: AuthUser,
    @Param('id', UuidPath('account')) id: string,
    @Body() body: CreditRequestDto,
    @Headers('idempotency-key') key?: string,
  ) {
    return this.accounts.credit(admin.id, id, body.amount, idempotencyKey(key));
  }
}
