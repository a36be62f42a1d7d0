import { Module } from '@nestjs/common';
import { PaymentWebhookController } from './payment-webhook.controller';
import { TopUpsController } from './top-ups.controller';
import { TopUpsService } from './top-ups.service';
import { WebhookRawBody } from './webhook-raw-body';

@Module({ controllers: [TopUpsController, PaymentWebhookController], providers: [TopUpsService, WebhookRawBody] })
export class TopUpsModule {}
