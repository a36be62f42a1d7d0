/**
 * Every topic, queue and exchange the apps use, in one place, with the schema version in the
 * name: a breaking change to a message gets a new name, and both run side by side while
 * consumers move over.
 */
export const Topics = {
  StockEvents: 'stock.events.v1',
  StockEventsDeadLetter: 'stock.events.v1.dlq',
  PriceChanged: 'catalog.price-changed.v1',
  PriceChangedDeadLetter: 'catalog.price-changed.v1.dlq',
} as const;

export const ConsumerGroups = {
  Process: 'process',
  ApiCatalog: 'api',
  MailerWatchers: 'mailer',
} as const;

export const Exchanges = {
  /** Saga commands and events between api, account and shop (topic exchange). */
  Commerce: 'commerce.v1',
  /** Where messages go when they cannot be processed, with the reason in a header. */
  DeadLetter: 'dead-letter.v1',
} as const;

export const Queues = {
  MailSend: 'mail.send',
} as const;

/** Kafka headers and AMQP properties every message carries. */
export const MessageHeaders = {
  MessageId: 'message-id',
  CorrelationId: 'correlation-id',
  SchemaVersion: 'schema-version',
  DeadLetterReason: 'x-dead-letter-reason',
} as const;
