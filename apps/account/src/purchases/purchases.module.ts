import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { PurchaseSweeper } from './purchase-sweeper';
import { PurchaseRepository } from './purchase.repository';
import { PurchasesController } from './purchases.controller';
import { PurchasesService } from './purchases.service';

@Module({
  imports: [UsersModule],
  controllers: [PurchasesController],
  providers: [PurchaseRepository, PurchasesService, PurchaseSweeper],
})
export class PurchasesModule {}
