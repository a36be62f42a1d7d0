import { Module } from '@nestjs/common';
import { ConsumerLag, DEAD_LETTER_REPLAY_LEDGER, DeadLetters } from '@app/messaging';
import { DeadLetterReplaysRepository } from './dead-letter-replays.repository';
import { DeadLettersController } from './dead-letters.controller';
import { OpsController } from './ops.controller';
import { OpsMetrics } from './ops.metrics';
import { OpsService } from './ops.service';

@Module({
  controllers: [OpsController, DeadLettersController],
  providers: [OpsService, ConsumerLag, DeadLetters, { provide: DEAD_LETTER_REPLAY_LEDGER, useClass: DeadLetterReplaysRepository }, OpsMetrics],
})
export class OpsModule {}
