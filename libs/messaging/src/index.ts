export * from './kafka/kafka.module';
export * from './rabbitmq/rabbitmq.module';
