import { applyDecorators, UseFilters } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { TopicContract } from '@app/contracts';
import { HandlerErrorsFilter } from '../handler-errors.filter';
import { KAFKA_TRANSPORT, KafkaHandlerExtras } from './kafka.server';

/**
 * `@EventPattern` for a topic of libs/contracts, on {@link KafkaServer}, consumed in consumer
 * group `group` (unless `KafkaModule.forRoot({ topics })` names another). The method gets the
 * valid records of one partition's batch (`@Payload() batch: ConsumedMessage<T>[]`, in offset
 * order) and a `KafkaBatchContext` (`@Ctx()`); resolving commits the batch, throwing holds the
 * partition and retries it with backoff. Must be idempotent: a batch is redelivered after a crash.
 */
export function KafkaBatch<T extends object>(contract: TopicContract<T>, options: { group: string }): MethodDecorator {
  const extras: KafkaHandlerExtras = { kafka: { contract, group: options.group } };
  return applyDecorators(EventPattern<string>(contract.topic, KAFKA_TRANSPORT, extras), UseFilters(HandlerErrorsFilter));
}
