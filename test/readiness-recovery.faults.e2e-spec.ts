import { APP_NAMES, AppName, appUrl, infra, itWhenControlledHere, waitFor } from '@app/testing';

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

// Each test stops a server: only one this checkout started (else it is skipped, saying why).
const itCassandra = itWhenControlledHere('cassandra', 'Cassandra');
const itKafka = itWhenControlledHere('kafka', 'Kafka');
const itRabbitmq = itWhenControlledHere('rabbitmq', 'RabbitMQ');

describe('readiness follows the infrastructure, without restarting the apps', () => {
  afterAll(async () => {
    // Whatever happened above, leave the servers running for the suites after this one
    // (`up` leaves a server it did not start alone).
    infra('up', 'cassandra', 'kafka', 'rabbitmq');
    await expectAllReady(180_000);
  }, 300_000);

  itCassandra(
    'Cassandra stopped: its users answer 503 naming cassandra; back: 200',
    async () => {
      infra('down', 'cassandra');
      await expectOutageSeen('cassandra');
      infra('up', 'cassandra');
      await expectAllReady(180_000);
    },
    400_000,
  );

  itKafka(
    'Kafka stopped: its users answer 503 naming kafka; back: 200',
    async () => {
      infra('down', 'kafka');
      await expectOutageSeen('kafka');
      infra('up', 'kafka');
      await expectAllReady(120_000);
    },
    300_000,
  );

  itRabbitmq(
    'RabbitMQ stopped: its users answer 503 naming rabbitmq; back: 200',
    async () => {
      infra('down', 'rabbitmq');
      await expectOutageSeen('rabbitmq');
      infra('up', 'rabbitmq');
      await expectAllReady(120_000);
    },
    300_000,
  );
});
