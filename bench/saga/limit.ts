import amqp, { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';

/**
 * The limit: the saga's four hops (api→account, account→shop, shop→account, account→api) as a raw
 * amqplib chain with the same guarantees as the product's (durable queues, persistent messages,
 * publisher confirms, manual acks, the same prefetch), and no work at all at each hop.
 */
export async function rawChain(url: string, prefetch: number) {
  const run = randomUUID().slice(0, 8);
  const q = { a: `bench.${run}.account`, b: `bench.${run}.shop`, a2: `bench.${run}.account-replies`, reply: `bench.${run}.client` };
  // noDelay as in the product (libs/messaging): the transport at its best.
  const connection = await amqp.connect(url, { noDelay: true });
  const setup = await connection.createChannel();
  for (const name of Object.values(q)) await setup.assertQueue(name, { durable: true, arguments: { 'x-expires': 600_000 } });

  async function hop(from: string, to: string): Promise<{ pub: ConfirmChannel; sub: Channel }> {
    const pub = await connection.createConfirmChannel();
    const sub = await connection.createChannel();
    await sub.prefetch(prefetch);
    await sub.consume(from, (m: ConsumeMessage | null) => {
      if (!m) return;
      pub.sendToQueue(to, m.content, { persistent: true, messageId: m.properties.messageId, correlationId: m.properties.correlationId }, (err) => {
        if (!err) sub.ack(m);
      });
    });
    return { pub, sub };
  }
  await hop(q.a, q.b); // account: takes the request, asks shop
  await hop(q.b, q.a2); // shop: answers
  await hop(q.a2, q.reply); // account: finishes, the client sees it

  const client = await connection.createConfirmChannel();
  const waiting = new Map<string, () => void>();
  const replies = await connection.createChannel();
  await replies.prefetch(prefetch);
  await replies.consume(q.reply, (m) => {
    if (!m) return;
    replies.ack(m);
    waiting.get(m.properties.messageId)?.();
  });

  return {
    async once(): Promise<void> {
      const id = randomUUID();
      const done = new Promise<void>((resolve) => waiting.set(id, resolve));
      await new Promise<void>((resolve, reject) =>
        client.sendToQueue(q.a, Buffer.from(JSON.stringify({ id })), { persistent: true, messageId: id }, (err) => (err ? reject(err) : resolve())),
      );
      await done;
      waiting.delete(id);
    },
    async close() {
      for (const name of Object.values(q)) await setup.deleteQueue(name).catch(() => undefined);
      await connection.close();
    },
  };
}
