import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { HealthIndicatorService } from '@nestjs/terminus';
import { waitFor } from '@app/testing';
import { HealthModule, ReadinessIndicator } from './health';
import { metricsRegistry } from './metrics';

/** A dependency the test turns on and off. */
@Injectable()
class SwitchedDependency implements ReadinessIndicator {
  static up = true;
  readonly key = 'switched';
  constructor(private readonly indicators: HealthIndicatorService) {}
  check() {
    const session = this.indicators.check(this.key);
    return Promise.resolve(SwitchedDependency.up ? session.up() : session.down({ message: 'switched off' }));
  }
}

async function metric(name: string): Promise<string> {
  return (await metricsRegistry.getSingleMetricAsString(name))
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n');
}

describe(HealthModule.name, () => {
  let sut: NestFastifyApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [HealthModule.forIndicators([SwitchedDependency], [SwitchedDependency])] }).compile();
    sut = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await sut.init();
    await sut.getHttpAdapter().getInstance().ready();
  });

  afterAll(() => sut.close());

  it('reports app_ready 1 at a scrape while every check is up, without anyone calling /health/ready', async () => {
    SwitchedDependency.up = true;
    expect(await metric('app_ready')).toBe('app_ready 1');
    expect(await metric('app_readiness_check')).toContain('app_readiness_check{check="switched"} 1');
  });

  it('turns app_ready to 0 once a dependency is down, and names the check', async () => {
    SwitchedDependency.up = false;
    // Readiness is cached for a second: the next round of checks sees the change.
    await waitFor('app_ready to turn 0', async () => (await metric('app_ready')) === 'app_ready 0', { timeoutMs: 5_000 });
    expect(await metric('app_readiness_check')).toContain('app_readiness_check{check="switched"} 0');
    expect(await metric('app_readiness_check')).toContain('app_readiness_check{check="shutdown"} 1');
    const answer = await sut.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/health/ready' });
    expect(answer.statusCode).toBe(503);
  });

  it('turns back to 1 when the dependency returns', async () => {
    SwitchedDependency.up = true;
    await waitFor('app_ready to turn 1', async () => (await metric('app_ready')) === 'app_ready 1', { timeoutMs: 5_000 });
  });
});
