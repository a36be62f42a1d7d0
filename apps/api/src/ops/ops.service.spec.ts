import 'reflect-metadata';
import type { ConsumerLag, GroupLag, RabbitClient } from '@app/messaging';
import { ApiEnv } from '../config/api.env';
import { OpsService } from './ops.service';

const TARGETS = 'api=http://api.test,process=http://process.test';

function subject(lag: (pairs: { group: string; topic: string }[]) => GroupLag[], ready: Record<string, boolean>, settings: Partial<ApiEnv> = {}) {
  const env = Object.assign(new ApiEnv(), { OPS_HEALTH_TARGETS: TARGETS, ...settings });
  const consumerLag = { read: jest.fn(async (pairs: { group: string; topic: string }[]) => lag(pairs)) };
  jest.spyOn(global, 'fetch').mockImplementation(async (url) => {
    const host = new URL(String(url)).hostname.split('.')[0];
    return new Response(JSON.stringify({ status: ready[host] ? 'ok' : 'error' }), { status: ready[host] ? 200 : 503 });
  });
  const outcomes = { COMPLETED: 3, REJECTED: 1, CANCELLED: 0, cart: { COMPLETED: 1, REJECTED: 0, CANCELLED: 0 } };
  const topUps = { PENDING: 2, SUCCEEDED: 5, FAILED: 1 };
  const rabbit = { request: jest.fn(async (contract: { pattern: string }) => (contract.pattern.endsWith('top-up-counts') ? topUps : outcomes)) };
  return { sut: new OpsService(env, consumerLag as unknown as ConsumerLag, rabbit as unknown as RabbitClient), consumerLag, rabbit };
}

const lagOf =
  (values: Record<string, number | null>) =>
  (pairs: { group: string; topic: string }[]): GroupLag[] =>
    pairs.map((p) => ({
      ...p,
      lag: p.group in values ? values[p.group] : 0,
      partitions: [],
      ...(values[p.group] === null ? { error: 'Kafka did not answer' } : {}),
    }));

describe(OpsService.name, () => {
  afterEach(() => jest.restoreAllMocks());

  it('reports every consumer group of the topology with its lag, and is ok when all are within OPS_LAG_DEGRADED', async () => {
    const { sut, consumerLag } = subject(lagOf({ process: 10_000 }), { api: true, process: true });
    const health = await sut.health();
    expect(health.status).toBe('ok');
    expect(health.consumers).toEqual([
      { group: 'process', topic: 'stock.events.v1', lag: 10_000 },
      { group: 'api', topic: 'catalog.price-changed.v1', lag: 0 },
      { group: 'mailer', topic: 'catalog.price-changed.v1', lag: 0 },
    ]);
    expect(consumerLag.read).toHaveBeenCalledTimes(1);
  });

  it('is degraded when a group lags above OPS_LAG_DEGRADED, or when the lag could not be read, with the reason', async () => {
    expect((await subject(lagOf({ mailer: 51 }), { api: true, process: true }, { OPS_LAG_DEGRADED: 50 }).sut.health()).status).toBe('degraded');
    jest.restoreAllMocks();
    const unknown = await subject(lagOf({ process: null }), { api: true, process: true }).sut.health();
    expect(unknown.status).toBe('degraded');
    expect(unknown.consumers[0]).toEqual({ group: 'process', topic: 'stock.events.v1', lag: null, error: 'Kafka did not answer' });
  });

  it('is degraded when some app is not ready, and down when none is, whatever the lag', async () => {
    expect((await subject(lagOf({}), { api: true, process: false }).sut.health()).status).toBe('degraded');
    jest.restoreAllMocks();
    expect((await subject(lagOf({}), { api: false, process: false }).sut.health()).status).toBe('down');
  });

  it('reuses one answer for a second: probes and the lag read are not multiplied by callers', async () => {
    const { sut, consumerLag } = subject(lagOf({}), { api: true, process: true });
    await Promise.all([sut.health(), sut.health(), sut.consumers(), sut.health()]);
    expect(consumerLag.read).toHaveBeenCalledTimes(1);
    expect(global.fetch).toHaveBeenCalledTimes(2);
  });

  it('reports the purchase outcomes and top-ups that account counts, and null (never a failure) when account does not answer', async () => {
    const { sut, rabbit } = subject(lagOf({}), { api: true, process: true });
    const { purchases, topUps } = await sut.health();
    expect(purchases).toEqual({ COMPLETED: 3, REJECTED: 1, CANCELLED: 0, cart: { COMPLETED: 1, REJECTED: 0, CANCELLED: 0 } });
    expect(topUps).toEqual({ PENDING: 2, SUCCEEDED: 5, FAILED: 1 });
    jest.restoreAllMocks();
    const silent = subject(lagOf({}), { api: true, process: true });
    silent.rabbit.request.mockRejectedValue(new Error('no answer within 3000 ms'));
    const health = await silent.sut.health();
    expect({ status: health.status, purchases: health.purchases, topUps: health.topUps }).toEqual({ status: 'ok', purchases: null, topUps: null });
    expect(rabbit.request).toHaveBeenCalledTimes(2);
  });
});
