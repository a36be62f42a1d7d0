export * from './kafka/kafka.module';
export * from './rabbitmq/rabbitmq.module';
export * from './rabbitmq/rabbit-publisher';
export * from './rabbitmq/rabbit-consumers';
export * from './rabbitmq/rabbit-rpc.client';
export * from './kafka/kafka-publisher';
export * from './kafka/kafka-batch-consumer';
export * from './keyed-lanes';
