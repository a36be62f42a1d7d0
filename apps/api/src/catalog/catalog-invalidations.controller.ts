import { Controller, Logger, OnModuleInit } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ItemChanged, MessageContracts, QueueContracts } from '@app/contracts';
import { RabbitEvent, RabbitServer } from '@app/messaging';
import { CatalogService } from './catalog.service';

/**
 * shop's change notices, on a broadcast queue of this instance's own: every api instance must
 * hear every notice, so competing consumers would be wrong here. The cache is emptied whenever
 * the queue is (re)subscribed, since notices may have been missed meanwhile, and when a notice
 * could not be read (it is dead-lettered), rather than trusting it.
 */
@Controller()
export class CatalogInvalidationsController implements OnModuleInit {
  private readonly logger = new Logger(CatalogInvalidationsController.name);

  constructor(
    private readonly catalog: CatalogService,
    private readonly server: RabbitServer,
  ) {}

  onModuleInit(): void {
    const queue = QueueContracts.ApiItemChanged.name;
    this.server.on('subscribed', (subscribed) => subscribed === queue && this.catalog.cache.clear());
    this.server.on('dead-lettered', (from) => {
      if (from !== queue) return;
      this.logger.warn({ msg: 'unreadable item-changed notice; cache emptied' });
      this.catalog.cache.clear();
    });
  }

  @RabbitEvent(MessageContracts.ItemChanged)
  itemChanged(@Payload() notice: ItemChanged): void {
    this.catalog.cache.evict(notice.sku);
  }
}
