import { Injectable } from '@nestjs/common';
import { ApiEnv } from '../config/api.env';

export type ServiceStatus = 'up' | 'down';

export interface OpsHealth {
  status: 'ok' | 'degraded' | 'down';
  services: Record<string, { status: ServiceStatus; details: unknown }>;
}

const PROBE_TIMEOUT_MS = 3_000;

/** Who may see the system's internals (and, later, act on them). */
export const OPS_ROLES = ['admin', 'ops'];

/** How long one aggregated answer is reused: no caller can turn its requests into a storm of probes. */
const CACHE_MS = 1_000;

/** Every app's `/health/ready`, asked at once; an app that does not answer in time is down. */
@Injectable()
export class OpsService {
  private cached?: { at: number; health: Promise<OpsHealth> };

  constructor(private readonly env: ApiEnv) {}

  /** At most one round of probes a second, however many callers ask (they share the round under way). */
  health(): Promise<OpsHealth> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= CACHE_MS) this.cached = { at: now, health: this.probeAll() };
    return this.cached.health;
  }

  private async probeAll(): Promise<OpsHealth> {
    const targets = this.env.opsHealthTargets;
    const results = await Promise.all(targets.map((target) => this.probe(target.url)));
    const services: OpsHealth['services'] = {};
    targets.forEach((target, i) => (services[target.name] = results[i]));
    const up = results.filter((r) => r.status === 'up').length;
    const status = up === results.length ? 'ok' : up === 0 ? 'down' : 'degraded';
    return { status, services };
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
