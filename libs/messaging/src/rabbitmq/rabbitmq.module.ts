import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import amqp, { AmqpConnectionManager } from 'amqp-connection-manager';
import type { ChannelModel } from 'amqplib';
import { settlesWithin } from '@app/contracts';
import { probe, ReadinessIndicator } from '@app/observability';
import { RabbitClient } from './rabbitmq.client';
import { RabbitServer } from './rabbitmq.server';

import { RABBITMQ_CONNECTION, RABBITMQ_OPTIONS, type RabbitmqOptions } from './rabbitmq.tokens';

export { RABBITMQ_CONNECTION, RABBITMQ_OPTIONS };
export type { RabbitmqOptions };

/** One connection per app that reconnects by itself; channels are opened from it as needed. */
export function createRabbitConnection(options: RabbitmqOptions): AmqpConnectionManager {
  const logger = new Logger('rabbitmq');
  const connection = amqp.connect([options.url], {
    heartbeatIntervalInSeconds: 5,
    reconnectTimeInSeconds: 1,
    // noDelay: amqplib writes a publish as several frames; with Nagle on, a lone request waits
    // for the broker's delayed ACK (~40 ms) before its last frame leaves.
    connectionOptions: { noDelay: true, clientProperties: { connection_name: options.connectionName } },
  });
  connection.on('connect', () => logger.log('connected to RabbitMQ'));
  connection.on('disconnect', ({ err }) => logger.warn({ msg: 'disconnected from RabbitMQ', err: err?.message }));
  connection.on('connectFailed', ({ err }) => logger.warn({ msg: 'cannot connect to RabbitMQ', err: err?.message }));
  // A channel error (the broker closing it, a restart) is logged, never left to crash the
  // process as an unhandled 'error' event: the channel reconnects by itself.
  const createChannel = connection.createChannel.bind(connection);
  connection.createChannel = (options) => {
    const channel = createChannel(options);
    channel.on('error', (error: Error) => logger.warn({ msg: `channel ${options?.name ?? ''} failed; it reconnects`, err: error.message }));
    return channel;
  };
  return connection;
}

/**
 * Ready when a channel opens on the app's own connection and every queue the app's
 * {@link RabbitServer} runs is being consumed.
 */
@Injectable()
export class RabbitmqHealthIndicator implements ReadinessIndicator {
  readonly key = 'rabbitmq';

  constructor(
    @Inject(RABBITMQ_CONNECTION) private readonly connection: AmqpConnectionManager,
    private readonly server: RabbitServer,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check() {
    return probe(this.indicators, this.key, 2500, async () => {
      // The manager's typing predates amqplib's ChannelModel split; at run time it is the model.
      const raw = this.connection.connection as unknown as ChannelModel | undefined;
      if (!raw || !this.connection.isConnected()) throw new Error('not connected to the broker');
      const channel = await raw.createChannel();
      await channel.close();
      const idle = this.server.notConsuming();
      if (idle.length > 0) throw new Error(`not consuming ${idle.join(', ')}`);
    });
  }
}

/**
 * Closes in order, after Nest closed the RabbitServer (its consumers stopped and finished what
 * they held; their handlers may still have published): the client's channels, then the
 * connection. Closing the connection first would leave the channels' close waiting forever.
 */
@Injectable()
class RabbitmqLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('rabbitmq');

  constructor(
    @Inject(RABBITMQ_CONNECTION) private readonly connection: AmqpConnectionManager,
    private readonly server: RabbitServer,
    private readonly client: RabbitClient,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    // Already closed when the app ran it as a microservice; a test module that did not still stops here.
    await this.bounded('consumers', this.server.close(), 12_000);
    await this.bounded('channels', this.client.close(), 3_000);
    await this.bounded('connection', this.connection.close(), 3_000);
  }

  private async bounded(what: string, work: Promise<unknown>, ms: number): Promise<void> {
    if (!(await settlesWithin(work, ms))) this.logger.warn(`closing the RabbitMQ ${what} took over ${ms} ms; going on`);
  }
}

@Global()
@Module({})
export class RabbitmqModule {
  static forRoot(options: RabbitmqOptions): DynamicModule {
    return {
      module: RabbitmqModule,
      providers: [
        { provide: RABBITMQ_OPTIONS, useValue: options },
        { provide: RABBITMQ_CONNECTION, useFactory: () => createRabbitConnection(options) },
        HealthIndicatorService,
        RabbitmqHealthIndicator,
        RabbitmqLifecycle,
        RabbitServer,
        RabbitClient,
      ],
      exports: [RABBITMQ_CONNECTION, RABBITMQ_OPTIONS, RabbitmqHealthIndicator, RabbitServer, RabbitClient],
    };
  }
}
