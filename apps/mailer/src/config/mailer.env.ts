import { Matches } from 'class-validator';
import { BaseEnv, IntInRange, Port, WithCassandra, WithKafka, WithRabbitmq, WithSmtp } from '@app/config';

/** Every setting of the mailer app; validated once at start (see `.env.example`). */
export class MailerEnv extends WithKafka(WithCassandra(WithRabbitmq(WithSmtp(BaseEnv)))) {
  @Port()
  MAILER_PORT = 3005;

  /**
   * Delays before each retry of a mail the SMTP server did not take. Long on purpose: an SMTP
   * outage of up to about an hour loses nothing; past the last delay the request is dead-lettered.
   */
  @Matches(/^\d{1,9}(,\d{1,9})*$/, { message: 'MAIL_RETRY_DELAYS_MS must be a comma-separated list of milliseconds' })
  MAIL_RETRY_DELAYS_MS = '1000,2000,5000,10000,20000,30000,60000,60000,120000,120000,300000,300000,300000,300000,300000,300000,300000,300000,300000,300000';

  /** How long a claim on a message id protects a send in progress before another delivery may take it over. */
  @IntInRange(30, 86_400)
  MAIL_CLAIM_LEASE_SECONDS = 120;

  /** ISO 4217 code amounts are shown in. */
  @Matches(/^[A-Z]{3}$/, { message: 'MAIL_CURRENCY must be an ISO 4217 code such as USD' })
  MAIL_CURRENCY = 'USD';

  get mailRetryDelaysMs(): number[] {
    return this.MAIL_RETRY_DELAYS_MS.split(',').map(Number);
  }
}
