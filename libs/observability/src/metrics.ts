import { Controller, Get, Header, Module } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** The process-wide registry: default process metrics plus whatever the app registers. */
export const metricsRegistry = new Registry();
let defaultsCollected = false;

export function initMetrics(app: string): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  metricsRegistry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: metricsRegistry });
}

export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request duration by route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

/** Messages sent to a dead-letter destination, by source and reason code. */
export const deadLetteredMessages = new Counter({
  name: 'messages_dead_lettered_total',
  help: 'Messages moved to a dead-letter topic or queue',
  labelNames: ['source', 'reason'] as const,
  registers: [metricsRegistry],
});

@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return metricsRegistry.metrics();
  }
}

@Module({ controllers: [MetricsController] })
export class MetricsModule {}
