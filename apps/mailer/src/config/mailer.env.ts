import { BaseEnv, Port, WithCassandra, WithKafka, WithRabbitmq, WithSmtp } from '@app/config';

/** Every setting of the mailer app; validated once at start (see `.env.example`). */
export class MailerEnv extends WithKafka(WithCassandra(WithRabbitmq(WithSmtp(BaseEnv)))) {
  @Port()
  MAILER_PORT = 3005;
}
