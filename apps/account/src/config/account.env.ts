import { BaseEnv, Port, WithCassandra, WithRabbitmq } from '@app/config';

/** Every setting of the account app; validated once at start (see `.env.example`). */
export class AccountEnv extends WithCassandra(WithRabbitmq(BaseEnv)) {
  @Port()
  ACCOUNT_PORT = 3003;
}
