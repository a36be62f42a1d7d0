export const RABBITMQ_CONNECTION = Symbol('RABBITMQ_CONNECTION');
export const RABBITMQ_OPTIONS = Symbol('RABBITMQ_OPTIONS');

export interface RabbitmqOptions {
  url: string;
  /** Unacknowledged deliveries per consumer channel. */
  prefetch: number;
  /** Shown in the broker's connection list. */
  connectionName: string;
  /** A work queue's retry ladder when it differs from its contract's (the mailer's MAIL_RETRY_DELAYS_MS), by queue name. */
  retryDelaysMs?: Record<string, readonly number[]>;
  /** How long an RPC waits for its answer unless the call says otherwise (default 5 s). */
  rpcTimeoutMs?: number;
}
