import { Injectable } from '@nestjs/common';
import { AccountRpc, ConsumerGroupContracts, PurchaseOutcomes, PurchaseOutcomesRequest, RpcContract, TopUpCounts, TopUpCountsRequest } from '@app/contracts';
import { ConsumerLag, RabbitClient, RabbitRecord } from '@app/messaging';
import { ApiEnv } from '../config/api.env';

export type ServiceStatus = 'up' | 'down';

/** One consumer group's lag on one topic; `lag` null, with `error`, when Kafka could not tell in time. */
export interface ConsumerLagView {
  group: string;
  topic: string;
  lag: number | null;
  error?: string;
}

export interface OpsHealth {
  status: 'ok' | 'degraded' | 'down';
  services: Record<string, { status: ServiceStatus; details: unknown }>;
  consumers: ConsumerLagView[];
  /** How many purchases ended in each terminal status (and carts among them); null when account did not answer in time. */
  purchases: PurchaseOutcomes | null;
  /** How many top-ups are in each status; null when account did not answer in time. */
  topUps: TopUpCounts | null;
}

const PROBE_TIMEOUT_MS = 3_000;
/** Reading the lag from Kafka runs beside the probes, within the same time. */
const LAG_TIMEOUT_MS = 2_500;

/** Who may see the system's internals and act on them. */
export const OPS_ROLES = ['admin', 'ops'];

/** How long one aggregated answer is reused: no caller can turn its requests into a storm of probes. */
const CACHE_MS = 1_000;

/** Every Kafka consumer group of the system and its topic, from libs/contracts. */
const GROUPS = ConsumerGroupContracts.map((c) => ({ group: c.group, topic: c.topic.topic }));

/**
 * The aggregated health of the system: every app's `/health/ready`, asked at once (an app that does
 * not answer in time is down), and every consumer group's lag read from Kafka.
 */
@Injectable()
export class OpsService {
  private cached?: { at: number; health: Promise<OpsHealth> };
  private cachedLag?: { at: number; consumers: Promise<ConsumerLagView[]> };

  constructor(
    private readonly env: ApiEnv,
    private readonly lag: ConsumerLag,
    private readonly rabbit: RabbitClient,
  ) {}

  /** At most one round of probes a second, however many callers ask (they share the round under way). */
  health(): Promise<OpsHealth> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= CACHE_MS) this.cached = { at: now, health: this.probeAll() };
    return this.cached.health;
  }

  /** Every consumer group's lag, read from Kafka at most once a second. */
  consumers(): Promise<ConsumerLagView[]> {
    const now = Date.now();
    if (!this.cachedLag || now - this.cachedLag.at >= CACHE_MS) this.cachedLag = { at: now, consumers: this.readLag() };
    return this.cachedLag.consumers;
  }

  private async probeAll(): Promise<OpsHealth> {
    const targets = this.env.opsHealthTargets;
    const [results, consumers, purchases, topUps] = await Promise.all([
      Promise.all(targets.map((target) => this.probe(target.url))),
      this.consumers(),
      this.countsFromAccount(AccountRpc.PurchaseOutcomes, {} satisfies PurchaseOutcomesRequest),
      this.countsFromAccount(AccountRpc.TopUpCounts, {} satisfies TopUpCountsRequest),
    ]);
    const services: OpsHealth['services'] = {};
    targets.forEach((target, i) => (services[target.name] = results[i]));
    const up = results.filter((r) => r.status === 'up').length;
    // Lag that cannot be read is not known to be fine.
    const lagging = consumers.some((c) => c.lag === null || c.lag > this.env.OPS_LAG_DEGRADED);
    const status = up === 0 ? 'down' : up < results.length || lagging ? 'degraded' : 'ok';
    return { status, services, consumers, purchases, topUps };
  }

  /** From account, within the probes' time; an account that cannot tell shows as unknown, never fails the answer. */
  private countsFromAccount<Req extends object, Rep extends object>(contract: RpcContract<Req, Rep>, request: Req): Promise<Rep | null> {
    // The reply is checked against its contract (unknown fields stripped) before it gets here.
    return this.rabbit.request(contract, new RabbitRecord<Req>(request, { timeoutMs: PROBE_TIMEOUT_MS })).catch(() => null);
  }

  private async readLag(): Promise<ConsumerLagView[]> {
    const values = await this.lag.read(GROUPS, LAG_TIMEOUT_MS);
    return values.map(({ group, topic, lag, error }) => (error === undefined ? { group, topic, lag } : { group, topic, lag, error }));
  }

  private async probe(baseUrl: string): Promise<{ status: ServiceStatus; details: unknown }> {
    try {
      const response = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      const text = await response.text();
      let details: unknown;
      try {
        details = JSON.parse(text);
      } catch {
        details = { message: text.slice(0, 500) };
      }
      return { status: response.ok ? 'up' : 'down', details };
    } catch (error) {
      const message = (error as Error).name === 'TimeoutError' ? `no answer within ${PROBE_TIMEOUT_MS} ms` : (error as Error).message;
      return { status: 'down', details: { message: `${baseUrl}/health/ready: ${message}` } };
    }
  }
}
