import { Module } from '@nestjs/common';
import { MailLogRepository } from './mail-log.repository';
import { MailSenderService } from './mail-sender.service';
import { SendMailController } from './send-mail.controller';

@Module({
  controllers: [SendMailController],
  providers: [MailLogRepository, MailSenderService],
  exports: [MailSenderService],
})
export class MailModule {}
