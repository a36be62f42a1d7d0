import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { probe, ReadinessIndicator } from '@app/observability';
import { KafkaServer } from './kafka.server';

/**
 * Ready when every consumer {@link KafkaServer} runs is in its group and no partition is held by
 * a failing handler. The cause (group, partition, the handler's error) goes to the log; the body
 * stays generic.
 */
@Injectable()
export class KafkaConsumersHealthIndicator implements ReadinessIndicator {
  readonly key = 'kafka-consumers';

  constructor(
    private readonly server: KafkaServer,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check() {
    return probe(this.indicators, this.key, 1000, async () => {
      const reason = this.server.notReadyReason();
      if (reason) throw new Error(reason);
    });
  }
}
