import { Controller, Logger, OnModuleInit } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { MessageContracts, PurchaseStatusChanged, QueueContracts } from '@app/contracts';
import { RabbitEvent, RabbitServer } from '@app/messaging';
import { PurchaseFollowers } from './purchase-followers';

/**
 * account's purchase status changes, on a broadcast queue of this instance's own (every api
 * instance must hear every change). Whenever the queue is (re)subscribed, notices may have been
 * missed meanwhile, so every followed purchase is read again; the same when a notice could not be
 * read (it is dead-lettered).
 */
@Controller()
export class PurchaseStatusController implements OnModuleInit {
  private readonly logger = new Logger(PurchaseStatusController.name);

  constructor(
    private readonly followers: PurchaseFollowers,
    private readonly server: RabbitServer,
  ) {}

  onModuleInit(): void {
    const queue = QueueContracts.ApiPurchaseStatusChanged.name;
    this.server.on('subscribed', (subscribed) => subscribed === queue && void this.followers.resync());
    this.server.on('dead-lettered', (from) => {
      if (from !== queue) return;
      this.logger.warn({ msg: 'unreadable purchase status notice; followed purchases read again' });
      void this.followers.resync();
    });
  }

  @RabbitEvent(MessageContracts.PurchaseStatusChanged)
  changed(@Payload() notice: PurchaseStatusChanged): void {
    this.followers.deliver(notice.userId, notice.purchase);
  }
}
