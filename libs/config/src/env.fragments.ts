import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsString, Matches, Max, Min, ValidateBy } from 'class-validator';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Constructor<T = object> = new (...args: any[]) => T;

const HOST_PORT_LIST = /^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/;

/** Settings every app has. */
export class BaseEnv {
  /** Required: the development defaults of secrets apply only under `development` or `test`. */
  @IsIn(['development', 'test', 'production'], {
    message: 'NODE_ENV must be set to development, test or production (development defaults apply only to development and test)',
  })
  NODE_ENV: 'development' | 'test' | 'production' | undefined = undefined;

  /** A request whose headers and body have not fully arrived by then is cut off (slow clients). */
  @IntInRange(1_000, 600_000)
  HTTP_REQUEST_TIMEOUT_MS = 60_000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** `json` or `pretty`; `auto` (unset): pretty when stdout is a terminal outside production, JSON otherwise. */
  @IsIn(['auto', 'json', 'pretty'], { message: 'LOG_FORMAT must be auto, json or pretty' })
  LOG_FORMAT: 'auto' | 'json' | 'pretty' = 'auto';

  @IsString()
  @IsNotEmpty()
  HOST = '127.0.0.1';

  get isProduction(): boolean {
    return this.NODE_ENV === 'production';
  }
}

export function WithKafka<B extends Constructor>(Base: B) {
  class KafkaEnv extends Base {
    @Matches(HOST_PORT_LIST, { message: 'KAFKA_BROKERS must be a comma-separated list of host:port' })
    KAFKA_BROKERS = '127.0.0.1:9092';

    get kafkaBrokers(): string[] {
      return this.KAFKA_BROKERS.split(',');
    }
  }
  return KafkaEnv;
}

export function WithCassandra<B extends Constructor>(Base: B) {
  class CassandraEnv extends Base {
    @Matches(HOST_PORT_LIST, {
      message: 'CASSANDRA_CONTACT_POINTS must be a comma-separated list of host:port',
    })
    CASSANDRA_CONTACT_POINTS = '127.0.0.1:9042';

    @IsString()
    @IsNotEmpty()
    CASSANDRA_LOCAL_DC = 'datacenter1';

    @IntInRange(1, 9)
    CASSANDRA_REPLICATION_FACTOR = 1;

    get cassandraContactPoints(): string[] {
      return this.CASSANDRA_CONTACT_POINTS.split(',');
    }
  }
  return CassandraEnv;
}

export function WithRabbitmq<B extends Constructor>(Base: B) {
  class RabbitmqEnv extends Base {
    @Matches(/^amqps?:\/\/.+/, { message: 'RABBITMQ_URL must be an amqp:// or amqps:// URL' })
    @RefusedInProduction((url) => String(url).includes('guest:guest@'), 'RABBITMQ_URL must carry credentials of your own in production, not guest:guest')
    RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';

    @IntInRange(1, 10_000)
    RABBITMQ_PREFETCH = 32;
  }
  return RabbitmqEnv;
}

export function WithRedis<B extends Constructor>(Base: B) {
  class RedisEnv extends Base {
    /** The shared store of rate-limit counters (the api and ingest). */
    @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
    REDIS_URL = 'redis://127.0.0.1:6379';
  }
  return RedisEnv;
}

export function WithSmtp<B extends Constructor>(Base: B) {
  class SmtpEnv extends Base {
    @IsString()
    @IsNotEmpty()
    SMTP_HOST = '127.0.0.1';

    @IntInRange(1, 65_535)
    SMTP_PORT = 1025;

    @IsString()
    @IsNotEmpty()
    MAIL_FROM = 'Retail <no-reply@retail.local>';
  }
  return SmtpEnv;
}

/** An integer variable within [min, max]. */
export function IntInRange(min: number, max: number): PropertyDecorator {
  return (target, key) => {
    Transform(({ value }) => Number(value))(target, key);
    IsInt()(target, key);
    Min(min)(target, key);
    Max(max)(target, key);
  };
}

/** A TCP port variable. */
export function Port(): PropertyDecorator {
  return IntInRange(1, 65_535);
}

/** Refuses a development default (or another value `isDefault` recognises) when NODE_ENV is production. */
export function RefusedInProduction(isDefault: (value: unknown) => boolean, message: string): PropertyDecorator {
  return ValidateBy({
    name: 'refusedInProduction',
    validator: {
      validate: (value, args) => (args?.object as BaseEnv | undefined)?.NODE_ENV !== 'production' || !isDefault(value),
      defaultMessage: () => message,
    },
  });
}
