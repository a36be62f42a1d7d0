import { Module } from '@nestjs/common';
import { PurchaseFollowers } from './purchase-followers';
import { PurchaseStatusController } from './purchase-status.controller';
import { PurchasesController } from './purchases.controller';
import { PurchasesService } from './purchases.service';

/** Exports PurchasesService: a checked-out cart is placed as a purchase too. */
@Module({ controllers: [PurchasesController, PurchaseStatusController], providers: [PurchasesService, PurchaseFollowers], exports: [PurchasesService] })
export class PurchasesModule {}
