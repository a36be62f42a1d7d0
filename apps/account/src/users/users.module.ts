import { Module } from '@nestjs/common';
import { AccountEnv } from '../config/account.env';
import { LedgerRepository } from '../ledger/ledger.repository';
import { LedgerService } from '../ledger/ledger.service';
import { MailPublisher } from '../mail/mail.publisher';
import { AdminSeeder } from './admin-seeder';
import { PasswordHasher } from './password-hasher';
import { UserRepository } from './user.repository';
import { UsersRpcConsumer } from './users.rpc-consumer';
import { UsersService } from './users.service';

@Module({
  providers: [
    UserRepository,
    UsersService,
    UsersRpcConsumer,
    AdminSeeder,
    LedgerRepository,
    LedgerService,
    MailPublisher,
    {
      provide: PasswordHasher,
      inject: [AccountEnv],
      useFactory: (env: AccountEnv) => new PasswordHasher({ N: env.PASSWORD_SCRYPT_COST, r: 8, p: env.PASSWORD_SCRYPT_PARALLELISM }),
    },
  ],
  exports: [UsersService, LedgerService, MailPublisher],
})
export class UsersModule {}
