/** Injection token of the app's kafkajs client (built by `createKafka`). */
export const KAFKA = Symbol('KAFKA');
export const KAFKA_OPTIONS = Symbol('KAFKA_OPTIONS');

export interface KafkaOptions {
  clientId: string;
  brokers: string[];
}
