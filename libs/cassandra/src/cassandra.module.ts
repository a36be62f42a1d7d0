import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { auth, Client, policies, types } from 'cassandra-driver';
import { Backoff, sleepUnless } from '@app/contracts';
import { probe, ReadinessIndicator, tracingOn } from '@app/observability';
import { traceCassandraClient } from './cassandra-tracing';
import { loadMigrations, migrate } from './migrations';

export const CASSANDRA_CLIENT = Symbol('CASSANDRA_CLIENT');

export interface CassandraOptions {
  contactPoints: string[];
  localDataCenter: string;
  /** The keyspace this app owns; created with its tables at start. */
  keyspace: string;
  replicationFactor: number;
  /** Folder of the app's versioned `NNN_name.cql` files. */
  migrationsDir: string;
  credentials?: { username: string; password: string };
  /** How long start-up waits for Cassandra before giving up. */
  connectTimeoutMs?: number;
}

/** A client with the product's settings; its statements are traced when tracing is on (`traceCassandraClient`). */
export function createCassandraClient(options: Pick<CassandraOptions, 'contactPoints' | 'localDataCenter' | 'credentials'>, keyspace?: string): Client {
  const client = new Client({
    contactPoints: options.contactPoints,
    localDataCenter: options.localDataCenter,
    keyspace,
    authProvider: options.credentials ? new auth.PlainTextAuthProvider(options.credentials.username, options.credentials.password) : undefined,
    // Come back within seconds when Cassandra returns (the default backs off to 10 minutes).
    policies: { reconnection: new policies.reconnection.ExponentialReconnectionPolicy(250, 4000, false) },
    queryOptions: { prepare: true, consistency: types.consistencies.localQuorum },
    socketOptions: { connectTimeout: 3000, readTimeout: 10000 },
    pooling: { heartBeatInterval: 5000 },
  });
  return tracingOn() ? traceCassandraClient(client) : client;
}

async function connectAndMigrate(options: CassandraOptions): Promise<Client> {
  const logger = new Logger('Cassandra');
  const deadline = Date.now() + (options.connectTimeoutMs ?? 120_000);
  const backoff = new Backoff(500, 5000);
  for (;;) {
    const bootstrap = createCassandraClient(options);
    let client: Client | undefined;
    try {
      await bootstrap.connect();
      const applied = await migrate(bootstrap, options.keyspace, options.replicationFactor, loadMigrations(options.migrationsDir));
      if (applied > 0) logger.log(`keyspace ${options.keyspace}: ${applied} migration(s) applied`);
      await bootstrap.shutdown();
      client = createCassandraClient(options, options.keyspace);
      await client.connect();
      return client;
    } catch (error) {
      // Neither client of a failed attempt is kept: each holds connections and timers.
      await bootstrap.shutdown().catch(() => undefined);
      await client?.shutdown().catch(() => undefined);
      const delay = backoff.next();
      if (Date.now() + delay > deadline) {
        throw new Error(`Cassandra at ${options.contactPoints.join(',')} is not reachable: ${(error as Error).message}`, { cause: error });
      }
      logger.warn(`Cassandra not ready (${(error as Error).message}); retrying in ${delay} ms`);
      await sleepUnless(delay);
    }
  }
}

/** Ready when Cassandra answers a query. */
@Injectable()
export class CassandraHealthIndicator implements ReadinessIndicator {
  readonly key = 'cassandra';

  constructor(
    @Inject(CASSANDRA_CLIENT) private readonly client: Client,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check() {
    return probe(this.indicators, this.key, 2500, async () => {
      const result = await this.client.execute('SELECT release_version FROM system.local', [], {
        readTimeout: 2000,
        prepare: false,
      });
      return { version: result.first()?.get('release_version') as string };
    });
  }
}

@Injectable()
class CassandraLifecycle implements OnApplicationShutdown {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}
  async onApplicationShutdown(): Promise<void> {
    await this.client.shutdown();
  }
}

@Global()
@Module({})
export class CassandraModule {
  static forRoot(options: CassandraOptions): DynamicModule {
    return {
      module: CassandraModule,
      providers: [
        { provide: CASSANDRA_CLIENT, useFactory: () => connectAndMigrate(options) },
        HealthIndicatorService,
        CassandraHealthIndicator,
        CassandraLifecycle,
      ],
      exports: [CASSANDRA_CLIENT, CassandraHealthIndicator],
    };
  }
}
