import { createServer, Server, Socket, connect } from 'node:net';

export interface TcpProxy {
  /** The local port clients connect to instead of the target's. */
  port: number;
  /**
   * A network partition: new connections are accepted and held, nothing is forwarded either way
   * (bytes wait in the proxy, as in the kernel's retransmission queue), no socket is closed.
   */
  blackhole(): void;
  /** Destroys every connection at once and refuses new ones until `restore`. */
  reset(): void;
  /** Forwards again: what waited during a blackhole is delivered, held connections reach the target. */
  restore(): void;
  close(): Promise<void>;
}

type Mode = 'open' | 'blackhole' | 'reset';

interface Pair {
  client: Socket;
  upstream?: Socket;
  toUpstream: Buffer[];
  toClient: Buffer[];
  /** The target ended or failed while partitioned: the client learns of it once the partition heals. */
  upstreamGone: boolean;
}

/** A small TCP proxy for fault tests: `startProxy(5672)` puts a switchable link in front of RabbitMQ. */
export async function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let mode: Mode = 'open';
  const pairs = new Set<Pair>();

  const drop = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  const flush = (pair: Pair) => {
    if (!pair.upstream) connectUpstream(pair);
    for (const chunk of pair.toUpstream.splice(0)) pair.upstream!.write(chunk);
    for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
    if (pair.upstreamGone) drop(pair);
  };

  const connectUpstream = (pair: Pair) => {
    const upstream = connect(targetPort, targetHost);
    pair.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'open') pair.client.write(chunk);
      else pair.toClient.push(chunk);
    });
    const gone = () => {
      if (mode === 'open') drop(pair);
      else pair.upstreamGone = true;
    };
    upstream.on('error', gone);
    upstream.on('close', gone);
  };

  const server: Server = createServer((client) => {
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, toUpstream: [], toClient: [], upstreamGone: false };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      if (mode === 'open' && pair.upstream) pair.upstream.write(chunk);
      else pair.toUpstream.push(chunk);
    });
    client.on('error', () => drop(pair));
    client.on('close', () => drop(pair));
    if (mode === 'open') connectUpstream(pair);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy: no TCP address');

  return {
    port: address.port,
    blackhole: () => {
      mode = 'blackhole';
    },
    reset: () => {
      mode = 'reset';
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        pair.client.resetAndDestroy();
        pair.upstream?.destroy();
      }
    },
    restore: () => {
      mode = 'open';
      for (const pair of [...pairs]) flush(pair);
    },
    close: () => {
      mode = 'reset';
      for (const pair of [...pairs]) drop(pair);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
