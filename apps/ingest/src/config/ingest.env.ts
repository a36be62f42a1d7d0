import { BaseEnv, Port, WithKafka } from '@app/config';

/** Every setting of the ingest app; validated once at start (see `.env.example`). */
export class IngestEnv extends WithKafka(BaseEnv) {
  @Port()
  INGEST_PORT = 3001;
}
