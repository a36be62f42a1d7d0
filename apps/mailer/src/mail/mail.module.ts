import { Module } from '@nestjs/common';
import { MailLogRepository } from './mail-log.repository';
import { MailSenderService } from './mail-sender.service';
import { SendMailConsumer } from './send-mail.consumer';

@Module({
  providers: [MailLogRepository, MailSenderService, SendMailConsumer],
  exports: [MailSenderService],
})
export class MailModule {}
