import { execFileSync } from 'node:child_process';
import { APP_NAMES, AppName, appUrl, infra, waitFor } from '@app/testing';

// Which apps depend on which server: readiness must name exactly these.
const USERS: Record<'cassandra' | 'kafka' | 'rabbitmq', AppName[]> = {
  cassandra: ['api', 'process', 'account', 'shop', 'mailer'],
  kafka: ['api', 'ingest', 'process', 'shop', 'mailer'],
  rabbitmq: ['api', 'account', 'shop', 'mailer'],
};

interface Readiness {
  status: number;
  failing: string[];
}

async function readiness(name: AppName): Promise<Readiness> {
  const response = await fetch(`${appUrl(name)}/health/ready`);
  const body = (await response.json()) as { error?: Record<string, unknown> };
  return { status: response.status, failing: Object.keys(body.error ?? {}) };
}

async function expectOutageSeen(server: keyof typeof USERS): Promise<void> {
  for (const name of APP_NAMES) {
    if (USERS[server].includes(name)) {
      await waitFor(`${name} readiness to name ${server}`, async () => {
        const r = await readiness(name);
        return r.status === 503 && r.failing.includes(server);
      });
    } else {
      expect((await readiness(name)).status).toBe(200);
    }
  }
}

async function expectAllReady(timeoutMs: number): Promise<void> {
  for (const name of APP_NAMES) {
    await waitFor(`${name} to be ready again`, async () => (await readiness(name)).status === 200, { timeoutMs });
  }
}

describe('readiness follows the infrastructure, without restarting the apps', () => {
  afterAll(async () => {
    // Whatever happened above, leave the servers running for the suites after this one.
    infra('up', 'cassandra', 'kafka');
    execFileSync('rabbitmqctl', ['start_app'], { stdio: 'ignore' });
    await expectAllReady(180_000);
  }, 300_000);

  it('Cassandra stopped: its users answer 503 naming cassandra; back: 200', async () => {
    infra('down', 'cassandra');
    await expectOutageSeen('cassandra');
    infra('up', 'cassandra');
    await expectAllReady(180_000);
  }, 400_000);

  it('Kafka stopped: its users answer 503 naming kafka; back: 200', async () => {
    infra('down', 'kafka');
    await expectOutageSeen('kafka');
    infra('up', 'kafka');
    await expectAllReady(120_000);
  }, 300_000);

  it('RabbitMQ stopped: its users answer 503 naming rabbitmq; back: 200', async () => {
    execFileSync('rabbitmqctl', ['stop_app'], { stdio: 'ignore' });
    await expectOutageSeen('rabbitmq');
    execFileSync('rabbitmqctl', ['start_app'], { stdio: 'ignore' });
    await expectAllReady(120_000);
  }, 300_000);
});
