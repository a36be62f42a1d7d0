import { Module } from '@nestjs/common';
import { LedgerRepository } from '../ledger/ledger.repository';
import { LedgerService } from '../ledger/ledger.service';
import { MailPublisher } from '../mail/mail.publisher';
import { AdminSeeder } from './admin-seeder';
import { UserRepository } from './user.repository';
import { UsersRpcConsumer } from './users.rpc-consumer';
import { UsersService } from './users.service';

@Module({
  providers: [UserRepository, UsersService, UsersRpcConsumer, AdminSeeder, LedgerRepository, LedgerService, MailPublisher],
  exports: [UsersService, LedgerService, MailPublisher],
})
export class UsersModule {}
