import { Module } from '@nestjs/common';
import { PurchaseFollowers } from './purchase-followers';
import { PurchaseStatusController } from './purchase-status.controller';
import { PurchasesController } from './purchases.controller';
import { PurchasesService } from './purchases.service';

@Module({ controllers: [PurchasesController, PurchaseStatusController], providers: [PurchasesService, PurchaseFollowers] })
export class PurchasesModule {}
