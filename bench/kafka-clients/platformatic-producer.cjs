// Preload for `npm run bench:stock` (BENCH_KAFKA_CLIENTS=both): puts @platformatic/kafka under the
// product's KafkaPublisher in a built app (`node -r this-file dist/apps/ingest/src/main.js`), so
// ingest can be measured with each client in the same run. Only the producer is swapped: the
// publisher's coalescing, limits, timeouts and producer replacement stay the product's own code.
// @platformatic/kafka is not a dependency (it requires Node >= 22.22); install it with
// `npm install --prefix .infra/bench-deps @platformatic/kafka@2.12.1`.
'use strict';
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '../..');
const DIR = process.env.PLATFORMATIC_KAFKA_DIR || join(ROOT, '.infra/bench-deps/node_modules/@platformatic/kafka');
const { KafkaPublisher } = require(join(ROOT, 'dist/libs/messaging/src/kafka/kafka-publisher.js'));

// On Node 20 the client's only missing API is Promise.withResolvers (ES2024).
if (!Promise.withResolvers)
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new Promise((a, b) => ((resolve = a), (reject = b)));
    return { promise, resolve, reject };
  };
let loaded;
const load = () => (loaded ??= import(join(DIR, 'dist/index.js')));

/** The two methods KafkaPublisher calls on a kafkajs producer, over a @platformatic/kafka producer. */
KafkaPublisher.prototype.getProducer = function () {
  if (this.producer) return Promise.resolve(this.producer);
  this.connecting ??= (async () => {
    try {
      const plt = await load();
      const producer = new plt.Producer({
        clientId: process.env.KAFKA_CLIENT_ID || 'ingest',
        bootstrapBrokers: (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(','),
        serializers: plt.stringSerializers,
        idempotent: true,
        acks: plt.ProduceAcks.ALL,
        autocreateTopics: false,
        retries: 3,
        retryDelay: 200,
      });
      await producer.initIdempotentProducer({});
      this.producer = {
        sendBatch: ({ topicMessages }) =>
          producer.send({
            messages: topicMessages.flatMap(({ topic, messages }) => messages.map((m) => ({ topic, key: m.key, value: m.value, headers: m.headers }))),
            acks: plt.ProduceAcks.ALL,
          }),
        disconnect: () => producer.close(),
      };
      return this.producer;
    } finally {
      this.connecting = undefined;
    }
  })();
  return this.connecting;
};
