import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { PurchaseSagaConsumer } from './purchase-saga.consumer';
import { PurchaseSweeper } from './purchase-sweeper';
import { PurchaseRepository } from './purchase.repository';
import { PurchasesRpcConsumer } from './purchases.rpc-consumer';
import { PurchasesService } from './purchases.service';

@Module({
  imports: [UsersModule],
  providers: [PurchaseRepository, PurchasesService, PurchaseSagaConsumer, PurchasesRpcConsumer, PurchaseSweeper],
})
export class PurchasesModule {}
