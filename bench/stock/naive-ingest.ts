/**
 * The "peer" for the ingest benchmark: the ingest endpoint as a straightforward Nest app would
 * write it — Nest's JSON body parser, and `ClientKafka.emit` once per event.
 * Env: PORT, KAFKA_BROKERS, TOPIC.
 */
import 'reflect-metadata';
import { Body, Controller, HttpCode, Inject, Module, OnModuleInit, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientKafka, ClientsModule, Transport } from '@nestjs/microservices';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { lastValueFrom } from 'rxjs';

const TOPIC = process.env.TOPIC ?? 'bench.naive';

@Controller('v1/stores/:storeId/stock-events')
class NaiveController implements OnModuleInit {
  constructor(@Inject('KAFKA') private readonly client: ClientKafka) {}
  async onModuleInit() {
    await this.client.connect();
  }
  @Post()
  @HttpCode(202)
  async ingest(@Param('storeId') storeId: string, @Body() events: { eventId: string; sku: string }[]) {
    await Promise.all(events.map((e) => lastValueFrom(this.client.emit(TOPIC, { key: `${storeId}/${e.sku}`, value: JSON.stringify({ storeId, ...e }) }))));
    return { accepted: events.length, rejected: [] };
  }
}

@Module({
  imports: [
    ClientsModule.register([
      {
        name: 'KAFKA',
        transport: Transport.KAFKA,
        options: {
          client: { clientId: 'naive-ingest', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',') },
          producer: { idempotent: true, allowAutoTopicCreation: false },
          producerOnlyMode: true,
        },
      },
    ]),
  ],
  controllers: [NaiveController],
})
class NaiveModule {}

async function main() {
  const app = await NestFactory.create<NestFastifyApplication>(NaiveModule, new FastifyAdapter({ bodyLimit: 10 * 1024 * 1024 }), { logger: ['error'] });
  await app.listen(Number(process.env.PORT ?? 4950), '127.0.0.1');
}
void main();
