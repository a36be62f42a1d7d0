import { Transform } from 'class-transformer';
import { IsInt, IsNotEmpty, Matches, Min, ValidateIf } from 'class-validator';
import { BaseEnv, IntInRange, Port, WithKafka, WithRedis } from '@app/config';

/** Used when STORE_API_KEYS is unset outside production (API.md). */
export const DEV_STORE_API_KEYS = 'store-1:dev-key-store-1,store-2:dev-key-store-2,store-3:dev-key-store-3';

/** Every setting of the ingest app; validated once at start (see `.env.example`). */
export class IngestEnv extends WithRedis(WithKafka(BaseEnv)) {
  @Port()
  INGEST_PORT = 3001;

  /** `storeId:key` pairs, comma-separated; required in production. */
  @ValidateIf((env: IngestEnv) => env.NODE_ENV === 'production' || env.STORE_API_KEYS !== '')
  @IsNotEmpty({ message: 'STORE_API_KEYS must be set in production' })
  @Matches(/^[A-Za-z0-9._-]{1,64}:[^,:\s]+(,[A-Za-z0-9._-]{1,64}:[^,:\s]+)*$/, {
    message: 'STORE_API_KEYS must be comma-separated storeId:key pairs',
  })
  STORE_API_KEYS = '';

  /** Requests per second per API key; 0 turns limiting off (load tests). */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  RATE_LIMIT_RPS = 200;

  /**
   * Requests with a missing or unknown X-Api-Key allowed per minute per address, across ingest
   * instances; past it, 429 before the key is even looked at (key guessing). 0 turns it off.
   */
  @IntInRange(0, 1_000_000)
  INGEST_KEY_FAILURES_PER_MIN = 30;

  /** The stock events topic (its dead-letter topic is this name + `.dlq`); another name isolates a benchmark. */
  @Matches(/^[A-Za-z0-9._-]{1,200}$/, { message: 'STOCK_TOPIC must be a Kafka topic name' })
  STOCK_TOPIC = 'stock.events.v1';

  /** Partitions of `stock.events.v1` when ingest has to create it (at least 6, so process can scale out). */
  @IntInRange(6, 1000)
  STOCK_TOPIC_PARTITIONS = 6;

  /** How long a request waits for Kafka's acknowledgement before answering 503. */
  @IntInRange(100, 120_000)
  KAFKA_PUBLISH_TIMEOUT_MS = 10_000;

  /** storeId by API key. */
  get storeIdByApiKey(): Map<string, string> {
    const raw = this.STORE_API_KEYS || DEV_STORE_API_KEYS;
    const map = new Map<string, string>();
    for (const pair of raw.split(',')) {
      const at = pair.indexOf(':');
      map.set(pair.slice(at + 1), pair.slice(0, at));
    }
    return map;
  }
}
