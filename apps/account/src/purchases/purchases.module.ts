import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { OpenPurchaseAges } from './open-purchase-ages';
import { PurchaseOutcomesRepository } from './purchase-outcomes.repository';
import { PurchaseSagaService } from './purchase-saga.service';
import { PurchaseSweeper } from './purchase-sweeper';
import { PurchaseWatchers } from './purchase-watchers';
import { PurchaseRepository } from './purchase.repository';
import { PurchasesController } from './purchases.controller';
import { PurchasesService } from './purchases.service';

@Module({
  imports: [UsersModule],
  controllers: [PurchasesController],
  providers: [PurchaseRepository, PurchaseOutcomesRepository, PurchaseWatchers, OpenPurchaseAges, PurchaseSagaService, PurchasesService, PurchaseSweeper],
})
export class PurchasesModule {}
