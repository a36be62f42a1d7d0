import { BaseEnv, Port, WithCassandra, WithKafka } from '@app/config';

/** Every setting of the process app; validated once at start (see `.env.example`). */
export class ProcessEnv extends WithKafka(WithCassandra(BaseEnv)) {
  @Port()
  PROCESS_PORT = 3002;
}
