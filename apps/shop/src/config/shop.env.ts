import { BaseEnv, IntInRange, Port, WithCassandra, WithKafka, WithRabbitmq } from '@app/config';
import { IsString, MinLength, NotEquals, ValidateIf } from 'class-validator';

/** Only for development and tests: production refuses to start with it. */
export const DEV_SHOP_PAGE_TOKEN_SECRET = 'dev-only-shop-page-token-secret';

/** Every setting of the shop app; validated once at start (see `.env.example`). */
export class ShopEnv extends WithKafka(WithCassandra(WithRabbitmq(BaseEnv))) {
  @Port()
  SHOP_PORT = 3004;

  /** The inventory check the api calls at checkout (gRPC), bound to HOST like the HTTP port. */
  @Port()
  SHOP_GRPC_PORT = 3014;

  /** How often the outbox relay looks for price changes not yet on Kafka (it also runs right after each change). */
  @IntInRange(50, 60_000)
  SHOP_OUTBOX_POLL_MS = 1_000;

  /** Saga commands for one sku committed together in one lightweight transaction, at most. */
  @IntInRange(1, 50)
  SHOP_RESERVATION_BATCH_MAX = 20;

  /** Signs the opaque page tokens of the item list, so a tampered token is refused. */
  @IsString()
  @MinLength(16)
  @ValidateIf((env: ShopEnv) => env.NODE_ENV === 'production')
  @NotEquals(DEV_SHOP_PAGE_TOKEN_SECRET, { message: 'SHOP_PAGE_TOKEN_SECRET must be set to a secret of your own in production' })
  SHOP_PAGE_TOKEN_SECRET = DEV_SHOP_PAGE_TOKEN_SECRET;
}
