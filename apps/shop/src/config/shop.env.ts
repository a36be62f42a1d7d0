import { BaseEnv, IntInRange, Port, WithCassandra, WithKafka, WithRabbitmq } from '@app/config';
import { IsString, MinLength } from 'class-validator';

/** Every setting of the shop app; validated once at start (see `.env.example`). */
export class ShopEnv extends WithKafka(WithCassandra(WithRabbitmq(BaseEnv))) {
  @Port()
  SHOP_PORT = 3004;

  /** How often the outbox relay looks for price changes not yet on Kafka (it also runs right after each change). */
  @IntInRange(50, 60_000)
  SHOP_OUTBOX_POLL_MS = 1_000;

  /** Saga commands for one sku committed together in one lightweight transaction, at most. */
  @IntInRange(1, 50)
  SHOP_RESERVATION_BATCH_MAX = 20;

  /** Signs the opaque page tokens of the item list, so a tampered token is refused. */
  @IsString()
  @MinLength(16)
  SHOP_PAGE_TOKEN_SECRET = 'dev-only-shop-page-token-secret';
}
