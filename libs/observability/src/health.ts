import { BeforeApplicationShutdown, Controller, DynamicModule, Get, Inject, Injectable, Module, Provider, Type } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorResult,
  HealthIndicatorService,
  TerminusModule,
} from '@nestjs/terminus';

/** One dependency an app needs to serve: Kafka, Cassandra, RabbitMQ, SMTP. */
export interface ReadinessIndicator {
  /** The key the readiness body names, e.g. `cassandra`. */
  readonly key: string;
  /** Resolves with an up or down result; never hangs longer than its own timeout. */
  check(): Promise<HealthIndicatorResult>;
}

export const READINESS_INDICATORS = Symbol('READINESS_INDICATORS');

/** Readiness turns down as soon as shutdown starts, so no new work is routed here. */
@Injectable()
export class ShutdownState implements BeforeApplicationShutdown {
  shuttingDown = false;
  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
  }
}

/** Runs `probe` with a deadline and reports the outcome under `key`, naming the error when down. */
export async function probe(
  indicators: HealthIndicatorService,
  key: string,
  timeoutMs: number,
  run: () => Promise<Record<string, unknown> | void>,
): Promise<HealthIndicatorResult> {
  const session = indicators.check(key);
  let timer: NodeJS.Timeout | undefined;
  try {
    const details = await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return session.up(details ?? {});
  } catch (error) {
    return session.down({ message: error instanceof Error ? error.message : String(error) });
  } finally {
    clearTimeout(timer);
  }
}

const READY_CACHE_MS = 1_000;

@Controller('health')
class HealthController {
  private cached?: { at: number; result: Promise<HealthCheckResult> };

  constructor(
    private readonly health: HealthCheckService,
    private readonly shutdown: ShutdownState,
    private readonly indicatorService: HealthIndicatorService,
    @Inject(READINESS_INDICATORS) private readonly indicators: ReadinessIndicator[],
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    // Shutdown is reported at once; otherwise one round of probes a second serves every caller,
    // so nobody can turn requests to this endpoint into load on the dependencies.
    if (this.shutdown.shuttingDown) return this.check();
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= READY_CACHE_MS) {
      const result = this.check();
      result.catch(() => undefined);
      this.cached = { at: now, result };
    }
    return this.cached.result;
  }

  private check(): Promise<HealthCheckResult> {
    return this.health.check([
      async () =>
        this.shutdown.shuttingDown
          ? this.indicatorService.check('shutdown').down({ message: 'the app is shutting down' })
          : this.indicatorService.check('shutdown').up(),
      ...this.indicators.map((indicator) => () => indicator.check()),
    ]);
  }
}

/**
 * `GET /health/live` and `GET /health/ready` from the indicators an app passes: exactly the
 * dependencies it uses. Indicator classes must be resolvable from the given imports or providers.
 */
@Module({})
export class HealthModule {
  static forIndicators(indicators: Type<ReadinessIndicator>[], extraProviders: Provider[] = []): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        ShutdownState,
        ...extraProviders,
        {
          provide: READINESS_INDICATORS,
          useFactory: (...resolved: ReadinessIndicator[]) => resolved,
          inject: indicators,
        },
      ],
    };
  }
}
