import { Module } from '@nestjs/common';
import { MailPublisher } from './mail.publisher';

@Module({ providers: [MailPublisher], exports: [MailPublisher] })
export class MailModule {}
