/**
 * The fair limit for the api's stock reads: bare Fastify and the same cassandra-driver settings
 * (createCassandraClient) serving GET /v1/stores/:storeId/stock/:sku with the same prepared SELECT and
 * the same answer, no framework, guard, validation pipe, logging or security headers. Started by run.ts.
 * Env: PORT.
 */
import Fastify from 'fastify';
import { createCassandraClient } from '@app/cassandra';

const SELECT = 'SELECT store_id, sku, quantity, updated_at FROM stock.stock_levels WHERE store_id = ? AND sku = ?';

async function main(): Promise<void> {
  const client = createCassandraClient({
    contactPoints: (process.env.CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:9042').split(','),
    localDataCenter: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
  });
  await client.connect();
  const app = Fastify({ logger: false });
  app.get<{ Params: { storeId: string; sku: string } }>('/v1/stores/:storeId/stock/:sku', async (request, reply) => {
    const row = (await client.execute(SELECT, [request.params.storeId, request.params.sku], { prepare: true })).first();
    if (!row) return reply.code(404).send({ code: 'STOCK.NOT_FOUND', message: 'not found' });
    return {
      storeId: row.get('store_id'),
      sku: row.get('sku'),
      quantity: row.get('quantity').toNumber(),
      updatedAt: (row.get('updated_at') as Date).toISOString(),
    };
  });
  await app.listen({ port: Number(process.env.PORT ?? 4929), host: '127.0.0.1' });
  process.stdout.write('ready\n');
}

void main();
