import { BaseEnv, Port, WithCassandra, WithKafka, WithRabbitmq } from '@app/config';

/** Every setting of the api app; validated once at start (see `.env.example`). */
export class ApiEnv extends WithKafka(WithCassandra(WithRabbitmq(BaseEnv))) {
  @Port()
  API_PORT = 3000;
}
