import { Module } from '@nestjs/common';
import { AccountEnv } from '../config/account.env';
import { LedgerModule } from '../ledger/ledger.module';
import { MailModule } from '../mail/mail.module';
import { AdminSeeder } from './admin-seeder';
import { PasswordHasher } from './password-hasher';
import { UserRepository } from './user.repository';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [LedgerModule, MailModule],
  controllers: [UsersController],
  providers: [
    UserRepository,
    UsersService,
    AdminSeeder,
    {
      provide: PasswordHasher,
      inject: [AccountEnv],
      useFactory: (env: AccountEnv) => new PasswordHasher({ N: env.PASSWORD_SCRYPT_COST, r: 8, p: env.PASSWORD_SCRYPT_PARALLELISM }),
    },
  ],
  exports: [UsersService, LedgerModule, MailModule],
})
export class UsersModule {}
