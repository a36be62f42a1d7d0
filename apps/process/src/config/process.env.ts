import { Matches } from 'class-validator';
import { BaseEnv, IntInRange, Port, WithCassandra, WithKafka } from '@app/config';

/** Every setting of the process app; validated once at start (see `.env.example`). */
export class ProcessEnv extends WithKafka(WithCassandra(BaseEnv)) {
  @Port()
  PROCESS_PORT = 3002;

  /** The stock events topic (its dead-letter topic is this name + `.dlq`); another name isolates a benchmark. */
  @Matches(/^[A-Za-z0-9._-]{1,200}$/, { message: 'STOCK_TOPIC must be a Kafka topic name' })
  STOCK_TOPIC = 'stock.events.v1';

  /** Partitions of `stock.events.v1` created when the topic does not exist yet (ingest uses the same default). */
  @IntInRange(6, 1000)
  STOCK_TOPIC_PARTITIONS = 6;

  /** Kafka consumer group; every instance of process shares `process`. Another name replays the topic from the start (tests, a rebuild). */
  @Matches(/^[A-Za-z0-9._-]{1,100}$/, { message: 'STOCK_CONSUMER_GROUP must be 1–100 characters of A-Z a-z 0-9 . _ -' })
  STOCK_CONSUMER_GROUP = 'process';

  /** Partitions one instance handles at the same time. */
  @IntInRange(1, 64)
  STOCK_CONSUMER_CONCURRENCY = 3;

  /**
   * Raised by one when the stock topic is rebuilt (recreated, its offsets starting again from 0), so
   * that the new levels' writes outrank the old ones (see `fenceTimestamp`).
   */
  @IntInRange(0, 1000)
  STOCK_WRITE_EPOCH = 0;

  /** Event ids process keeps in memory for the keys of its partitions (so a batch reads nothing for a key it has seen). */
  @IntInRange(0, 100_000_000)
  STOCK_STATE_CACHE_EVENTS = 2_000_000;

  /** Cassandra requests in flight per batch. */
  @IntInRange(1, 2048)
  CASSANDRA_WRITE_CONCURRENCY = 128;
}
