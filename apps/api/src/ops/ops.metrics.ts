import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { DeadLetters } from '@app/messaging';
import { metricsRegistry } from '@app/observability';
import { OpsService } from './ops.service';

/** A scrape waits this long at most for the brokers; a queue that did not answer keeps its last value. */
const SCRAPE_TIMEOUT_MS = 1_500;

let sources: { deadLetters: DeadLetters; ops: OpsService } | undefined;

function registerGauges(): void {
  if (metricsRegistry.getSingleMetric('dead_letter_messages')) return;
  new Gauge({
    name: 'dead_letter_messages',
    help: 'Messages waiting in each dead-letter topic or queue of the system (replayed ones excluded), read from the brokers at scrape time',
    labelNames: ['name', 'transport'] as const,
    registers: [metricsRegistry],
    async collect() {
      if (!sources) return;
      for (const { name, transport, count } of await sources.deadLetters.counts(SCRAPE_TIMEOUT_MS)) this.set({ name, transport }, count);
    },
  });
  new Gauge({
    name: 'ops_consumer_group_lag',
    help: 'Messages a consumer group has still to consume on a topic (end offsets minus committed offsets, all partitions), read from Kafka',
    labelNames: ['group', 'topic'] as const,
    registers: [metricsRegistry],
    async collect() {
      if (!sources) return;
      for (const { group, topic, lag } of await sources.ops.consumers()) if (lag !== null) this.set({ group, topic }, lag);
    },
  });
}

/** The operators' gauges on the api's /metrics: dead-letter depth per queue and lag per consumer group. */
@Injectable()
export class OpsMetrics implements OnModuleInit {
  constructor(
    private readonly deadLetters: DeadLetters,
    private readonly ops: OpsService,
  ) {}

  onModuleInit(): void {
    sources = { deadLetters: this.deadLetters, ops: this.ops };
    registerGauges();
  }
}
