export * from './kafka/kafka.module';
export * from './rabbitmq/rabbitmq.module';
export * from './rabbitmq/rabbit-publisher';
export * from './rabbitmq/rabbit-consumers';
export * from './rabbitmq/rabbit-rpc.client';
