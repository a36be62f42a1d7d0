import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '@app/observability';

/**
 * Outcomes of mail requests by kind: sent, duplicate (already sent: nothing done), retried
 * (SMTP or Cassandra unavailable), rejected (poison: dead-lettered at once). Every dead-lettered
 * request also counts in `messages_dead_lettered_total{source="mail.send"}`.
 */
export const mailRequests = new Counter({
  name: 'mailer_requests_total',
  help: 'Mail requests handled, by kind and outcome (sent, duplicate, retried, rejected)',
  labelNames: ['kind', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const smtpSendDuration = new Histogram({
  name: 'mailer_smtp_send_duration_seconds',
  help: 'Time for the SMTP server to accept one message',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export const priceDropMails = new Counter({
  name: 'mailer_price_drop_requests_total',
  help: 'Price-drop mail requests queued for watchers',
  registers: [metricsRegistry],
});

export const priceEventsIgnored = new Counter({
  name: 'mailer_price_events_ignored_total',
  help: 'PriceChanged events ignored because a newer or equal version was already handled',
  registers: [metricsRegistry],
});
