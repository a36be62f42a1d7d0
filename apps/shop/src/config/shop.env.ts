import { BaseEnv, Port, WithCassandra, WithKafka, WithRabbitmq } from '@app/config';

/** Every setting of the shop app; validated once at start (see `.env.example`). */
export class ShopEnv extends WithKafka(WithCassandra(WithRabbitmq(BaseEnv))) {
  @Port()
  SHOP_PORT = 3004;
}
