import {
  BeforeApplicationShutdown,
  Controller,
  DynamicModule,
  Get,
  HttpException,
  Inject,
  Injectable,
  Logger,
  Module,
  OnModuleDestroy,
  OnModuleInit,
  Provider,
  Type,
} from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorResult, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Gauge } from 'prom-client';
import { metricsRegistry } from './metrics';

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

const healthLogger = new Logger('health');
/** The last failure logged per indicator, so a probe polled every few seconds logs a change once. */
const lastFailure = new Map<string, string>();

/**
 * Runs `probe` with a deadline and reports the outcome under `key`. Down, the body says only that
 * the dependency cannot be reached (or did not answer in time): readiness is public, and a
 * driver's words name hosts and internals. The cause goes to the log, once per change.
 */
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
    if (lastFailure.delete(key)) healthLogger.log({ msg: `${key} is reachable again`, indicator: key });
    return session.up(details ?? {});
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    if (lastFailure.get(key) !== cause) {
      lastFailure.set(key, cause);
      healthLogger.warn({ msg: `${key} is not ready`, indicator: key, err: cause });
    }
    const timedOut = cause === `no answer within ${timeoutMs} ms`;
    return session.down({ message: timedOut ? `${key} did not answer within ${timeoutMs} ms` : `${key} cannot be reached` });
  } finally {
    clearTimeout(timer);
  }
}

const READY_CACHE_MS = 1_000;

/** What `GET /health/ready` answers now (through its one-second cache); set by the app's health controller. */
let currentReadiness: (() => Promise<HealthCheckResult>) | undefined;

/**
 * 1 while `GET /health/ready` answers 200, 0 while it answers 503 (a dependency down, or shutting
 * down). Evaluated at each scrape, so it is current even when nothing else polls readiness.
 */
export const appReady = new Gauge({
  name: 'app_ready',
  help: 'Whether the app is ready to serve (1) or not (0), as GET /health/ready answers at scrape time',
  registers: [metricsRegistry],
  async collect() {
    await currentReadiness?.().catch(() => undefined);
  },
});

/** The same per check of the readiness body (`kafka`, `cassandra`, `rabbitmq`, `shutdown`, ...): which one is down. */
export const readinessCheckUp = new Gauge({
  name: 'app_readiness_check',
  help: 'Each readiness check: up (1) or down (0), as last evaluated',
  labelNames: ['check'] as const,
  registers: [metricsRegistry],
});

function recordReadiness(outcome: { ok: true; result: HealthCheckResult } | { ok: false; error: unknown }): void {
  // Terminus rejects with a 503 whose body is the same result when a check is down.
  const result = outcome.ok ? outcome.result : outcome.error instanceof HttpException ? (outcome.error.getResponse() as Partial<HealthCheckResult>) : {};
  appReady.set(outcome.ok && result.status === 'ok' ? 1 : 0);
  for (const [check, detail] of Object.entries(result.details ?? {})) readinessCheckUp.set({ check }, detail?.status === 'up' ? 1 : 0);
}

@Controller('health')
class HealthController implements OnModuleInit, OnModuleDestroy {
  private cached?: { at: number; result: Promise<HealthCheckResult> };
  private readonly readNow = () => this.ready();

  constructor(
    private readonly health: HealthCheckService,
    private readonly shutdown: ShutdownState,
    private readonly indicatorService: HealthIndicatorService,
    @Inject(READINESS_INDICATORS) private readonly indicators: ReadinessIndicator[],
  ) {}

  onModuleInit(): void {
    currentReadiness = this.readNow;
  }

  onModuleDestroy(): void {
    if (currentReadiness === this.readNow) currentReadiness = undefined;
  }

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
    const result = this.health.check([
      async () =>
        this.shutdown.shuttingDown
          ? this.indicatorService.check('shutdown').down({ message: 'the app is shutting down' })
          : this.indicatorService.check('shutdown').up(),
      ...this.indicators.map((indicator) => () => indicator.check()),
    ]);
    void result.then(
      (ok) => recordReadiness({ ok: true, result: ok }),
      (error: unknown) => recordReadiness({ ok: false, error }),
    );
    return result;
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
