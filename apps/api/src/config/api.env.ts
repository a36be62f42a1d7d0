import { BaseEnv, IntInRange, Port, WithCassandra, WithKafka, WithRabbitmq, WithRedis } from '@app/config';
import { Transform } from 'class-transformer';
import { IsNotEmpty, IsNumber, IsPositive, IsString, Matches, Max, MinLength, NotEquals, ValidateIf } from 'class-validator';

/** Only for development and tests: production refuses to start with it (or with no secret). */
export const DEV_JWT_SECRET = 'dev-only-jwt-secret-do-not-use-in-production';

export const DEV_PAGE_TOKEN_SECRET = 'dev-only-page-token-secret';

/** Only for development and tests (the simulator `npm run pay` signs with it too): production refuses to start with it. */
export const DEV_PAYMENT_WEBHOOK_SECRET = 'dev-only-payment-webhook-secret';

const NAME_URL_LIST = /^[a-z0-9-]+=https?:\/\/[^,\s]+(,[a-z0-9-]+=https?:\/\/[^,\s]+)*$/;

/** Every setting of the api app; validated once at start (see `.env.example`). */
export class ApiEnv extends WithRedis(WithKafka(WithCassandra(WithRabbitmq(BaseEnv)))) {
  @Port()
  API_PORT = 3000;

  // --- auth ---
  @IsString()
  @MinLength(32)
  @ValidateIf((env: ApiEnv) => env.NODE_ENV === 'production')
  @NotEquals(DEV_JWT_SECRET, { message: 'JWT_SECRET must be set to a secret of your own in production' })
  JWT_SECRET = DEV_JWT_SECRET;

  @IsString()
  @IsNotEmpty()
  JWT_ISSUER = 'retail-api';

  @IsString()
  @IsNotEmpty()
  JWT_AUDIENCE = 'retail-clients';

  @IntInRange(10, 86_400)
  JWT_TTL_SECONDS = 900;

  /** How long the api trusts what it learned of a user's credentials version and roles. */
  @IntInRange(0, 600_000)
  CREDENTIALS_CACHE_TTL_MS = 5_000;

  /**
   * Requests per second per user (per IP without a token), in one-second windows; 0 turns limiting
   * off. Generous by default: test suites and busy clients call from one address.
   */
  @IntInRange(0, 1_000_000)
  RATE_LIMIT_RPS = 500;

  /**
   * Login, registration and password-change attempts a minute, per account and per IP, across
   * every api instance; 0 turns it off (load tests).
   */
  @IntInRange(0, 1_000_000)
  AUTH_RATE_LIMIT_PER_MIN = 10;

  /** How long the api waits for account or shop to answer a request. */
  @IntInRange(100, 60_000)
  RPC_TIMEOUT_MS = 5_000;

  /**
   * The same for registration, login and password change: each costs account a memory-hard hash
   * (about 150 ms of CPU), so a burst of them queues up on account before it is answered.
   */
  @IntInRange(100, 120_000)
  PASSWORD_RPC_TIMEOUT_MS = 15_000;

  // --- stock ---
  /** Signs stock page tokens (HMAC-SHA256): tokens survive restarts and cannot be forged. */
  @IsString()
  @MinLength(16)
  @ValidateIf((env: ApiEnv) => env.NODE_ENV === 'production')
  @NotEquals(DEV_PAGE_TOKEN_SECRET, { message: 'PAGE_TOKEN_SECRET must be set to a secret of your own in production' })
  PAGE_TOKEN_SECRET = DEV_PAGE_TOKEN_SECRET;

  // --- top-ups (POST /v1/payments/webhook) ---
  /** The secret shared with the payment provider: each webhook is signed with HMAC-SHA256 under it (Payment-Signature). */
  @IsString()
  @MinLength(16)
  @ValidateIf((env: ApiEnv) => env.NODE_ENV === 'production')
  @NotEquals(DEV_PAYMENT_WEBHOOK_SECRET, { message: 'PAYMENT_WEBHOOK_SECRET must be set to the secret your payment provider gave you in production' })
  PAYMENT_WEBHOOK_SECRET = DEV_PAYMENT_WEBHOOK_SECRET;

  // --- purchase streams (GET /v1/purchases/{id}/events) ---
  /** Event streams one api instance holds open at once; past it, 503 with Retry-After. */
  @IntInRange(1, 1_000_000)
  PURCHASE_STREAMS_MAX = 2_000;

  /** How often the purchases behind open streams and long polls are read again, in case a status-change notice was missed. */
  @IntInRange(200, 600_000)
  PURCHASE_STREAM_RESYNC_MS = 5_000;

  /** How often an open stream gets a comment line, so that proxies and load balancers keep it open. */
  @IntInRange(100, 600_000)
  PURCHASE_STREAM_HEARTBEAT_MS = 15_000;

  // --- catalog ---
  /** How long an item read from shop is served from this instance's cache; shop's change notices evict it sooner. */
  @IntInRange(0, 600_000)
  CATALOG_CACHE_TTL_MS = 2_000;

  // --- cart (Redis) and checkout (gRPC to shop) ---
  /** A cart is forgotten this many days after its last change; decimals allowed (0.5 = 12 hours). */
  @Transform(({ value }) => Number(value))
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'CART_TTL_DAYS must be a number of days greater than 0 (decimals allowed)' })
  @IsPositive({ message: 'CART_TTL_DAYS must be a number of days greater than 0 (decimals allowed)' })
  @Max(3650)
  CART_TTL_DAYS = 30;

  /** When set (> 0), the cart's time to live in seconds instead of CART_TTL_DAYS (tests use a few seconds). */
  @IntInRange(0, 315_360_000)
  CART_TTL_SECONDS = 0;

  /** shop's gRPC endpoint (host:port) for the inventory check at checkout. */
  @Matches(/^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):\d{1,5}$/, { message: 'SHOP_GRPC_URL must be host:port (e.g. 127.0.0.1:3014)' })
  SHOP_GRPC_URL = '127.0.0.1:3014';

  /** The deadline of every gRPC call to shop; past it the checkout answers 503 and buys nothing. */
  @IntInRange(50, 60_000)
  SHOP_GRPC_DEADLINE_MS = 2_000;

  /** The cart's time to live, in milliseconds. */
  get cartTtlMs(): number {
    return this.CART_TTL_SECONDS > 0 ? this.CART_TTL_SECONDS * 1000 : Math.max(1, Math.round(this.CART_TTL_DAYS * 86_400_000));
  }

  // --- ops ---
  @Matches(NAME_URL_LIST, { message: 'OPS_HEALTH_TARGETS must be a comma-separated list of name=http://host:port' })
  OPS_HEALTH_TARGETS =
    'api=http://127.0.0.1:3000,ingest=http://127.0.0.1:3001,process=http://127.0.0.1:3002,' +
    'account=http://127.0.0.1:3003,shop=http://127.0.0.1:3004,mailer=http://127.0.0.1:3005';

  /**
   * GET /v1/ops/health says `degraded` when a Kafka consumer group has more messages than this
   * left to consume on a topic (end offsets minus its committed offsets).
   */
  @IntInRange(0, 1_000_000_000_000)
  OPS_LAG_DEGRADED = 10_000;

  get opsHealthTargets(): { name: string; url: string }[] {
    return this.OPS_HEALTH_TARGETS.split(',').map((pair) => {
      const at = pair.indexOf('=');
      return { name: pair.slice(0, at), url: pair.slice(at + 1) };
    });
  }
}
