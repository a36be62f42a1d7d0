import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module';
import { TopUpCountsRepository } from './top-up-counts.repository';
import { TopUpRepository } from './top-up.repository';
import { TopUpsController } from './top-ups.controller';
import { TopUpsService } from './top-ups.service';

@Module({
  imports: [LedgerModule],
  controllers: [TopUpsController],
  providers: [TopUpRepository, TopUpCountsRepository, TopUpsService],
})
export class TopUpsModule {}
