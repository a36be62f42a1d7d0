import { DynamicModule, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { createTransport, Transporter } from 'nodemailer';
import { probe, ReadinessIndicator } from '@app/observability';
import { MailerEnv } from '../config/mailer.env';

export const SMTP_TRANSPORT = Symbol('SMTP_TRANSPORT');

/** Ready when the SMTP server accepts a connection and greets us (`transport.verify()`). */
@Injectable()
export class SmtpHealthIndicator implements ReadinessIndicator {
  readonly key = 'smtp';

  constructor(
    @Inject(SMTP_TRANSPORT) private readonly transport: Transporter,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check() {
    return probe(this.indicators, this.key, 2500, async () => {
      await this.transport.verify();
    });
  }
}

@Injectable()
class SmtpLifecycle implements OnApplicationShutdown {
  constructor(@Inject(SMTP_TRANSPORT) private readonly transport: Transporter) {}
  onApplicationShutdown(): void {
    this.transport.close();
  }
}

@Module({})
export class SmtpModule {
  static forRoot(env: MailerEnv): DynamicModule {
    return {
      module: SmtpModule,
      global: true,
      providers: [
        {
          provide: SMTP_TRANSPORT,
          useFactory: () =>
            createTransport({
              host: env.SMTP_HOST,
              port: env.SMTP_PORT,
              secure: false,
              pool: true,
              maxConnections: 4,
              connectionTimeout: 3000,
              greetingTimeout: 3000,
              socketTimeout: 10000,
            }),
        },
        HealthIndicatorService,
        SmtpHealthIndicator,
        SmtpLifecycle,
      ],
      exports: [SMTP_TRANSPORT, SmtpHealthIndicator],
    };
  }
}
