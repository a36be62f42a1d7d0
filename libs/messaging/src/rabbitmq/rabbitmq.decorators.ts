import { applyDecorators, UseFilters } from '@nestjs/common';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { MessageContract, RpcContract } from '@app/contracts';
import { HandlerErrorsFilter } from '../handler-errors.filter';
import { RABBITMQ_TRANSPORT, RabbitHandlerExtras } from './rabbitmq.server';

/**
 * `@MessagePattern` for a request/reply operation of libs/contracts, on {@link RabbitServer}: the
 * method gets the validated request (`@Payload()`) and its `RabbitContext` (`@Ctx()`), and what
 * it returns (or the DomainError it throws) is the reply.
 */
export function RabbitRpc(contract: RpcContract): MethodDecorator {
  const extras: RabbitHandlerExtras = { rabbit: contract };
  return applyDecorators(MessagePattern(contract.pattern, RABBITMQ_TRANSPORT, extras), UseFilters(HandlerErrorsFilter));
}

/**
 * `@EventPattern` for a command or event of libs/contracts, on {@link RabbitServer}: the method
 * gets the validated message; resolving acks it, a non-retryable DomainError dead-letters it at
 * once, any other error retries it on its queue's ladder. Must be idempotent.
 */
export function RabbitEvent(contract: MessageContract): MethodDecorator {
  const extras: RabbitHandlerExtras = { rabbit: contract };
  return applyDecorators(EventPattern<string>(contract.pattern, RABBITMQ_TRANSPORT, extras), UseFilters(HandlerErrorsFilter));
}
