export const RABBITMQ_CONNECTION = Symbol('RABBITMQ_CONNECTION');
export const RABBITMQ_OPTIONS = Symbol('RABBITMQ_OPTIONS');

export interface RabbitmqOptions {
  url: string;
  /** Unacknowledged deliveries per consumer channel. */
  prefetch: number;
  /** Shown in the broker's connection list. */
  connectionName: string;
}
