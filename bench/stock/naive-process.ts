/**
 * The "peer" for the process benchmark: Nest's built-in Kafka transport with an `@EventPattern`
 * handler that awaits one Cassandra write per event. Env: KAFKA_BROKERS, TOPIC, GROUP.
 */
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MicroserviceOptions, Payload, Transport } from '@nestjs/microservices';
import { Client } from 'cassandra-driver';

const TOPIC = process.env.TOPIC ?? 'bench.naive';
const client = new Client({ contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1', keyspace: 'stock' });

@Controller()
class NaiveHandler {
  @EventPattern(TOPIC)
  async handle(@Payload() data: object) {
    const event = data as { storeId: string; sku: string; eventId: string; type: string; quantity: number; occurredAt: string };
    await client.execute(
      'INSERT INTO bench_events (store_id, sku, event_id, type, quantity, occurred_at) VALUES (?, ?, ?, ?, ?, ?)',
      [event.storeId, event.sku, event.eventId, event.type, event.quantity, new Date(event.occurredAt)],
      { prepare: true },
    );
  }
}

@Module({ controllers: [NaiveHandler] })
class NaiveModule {}

async function main() {
  await client.connect();
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(NaiveModule, {
    transport: Transport.KAFKA,
    options: {
      client: { clientId: 'naive-process', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',') },
      consumer: { groupId: process.env.GROUP ?? 'bench-naive' },
      subscribe: { fromBeginning: true },
      postfixId: '',
    },
    logger: ['error'],
  });
  await app.listen();
}
void main();
