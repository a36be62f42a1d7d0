import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { currentCorrelation } from './correlation';

/** `LOG_FORMAT`: `auto` is pretty in a terminal outside production and JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  format?: LogFormat;
  /** NODE_ENV is production: `auto` is always JSON there. */
  production?: boolean;
  /** Where the lines go (default stdout); a stream that is not a terminal gets JSON under `auto`. */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** JSON for machines (files, pipes, log collectors, tests, production), pretty for a person at a terminal. */
export function resolveLogFormat(format: LogFormat, production: boolean, isTty: boolean): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return isTty && !production ? 'pretty' : 'json';
}

/**
 * One JSON line per event, with the app name and the current correlation ids on every line.
 * Fastify and Nest share the same instance, so request logs and app logs look alike. In a
 * terminal outside production (or with `LOG_FORMAT=pretty`) the same events are printed by
 * pino-pretty: one coloured line each, time, level, app and message first.
 */
export function createLogger(app: string, level: string, options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stdout;
  const format = resolveLogFormat(options.format ?? 'auto', options.production ?? false, destination.isTTY === true);
  const settings: pino.LoggerOptions = {
    level,
    base: { app },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => ({ ...currentCorrelation() }),
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.password', '*.newPassword', '*.currentPassword'],
      censor: '[redacted]',
    },
  };
  if (format === 'pretty') {
    const pretty = PinoPretty({ destination, sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', messageFormat: '{app}: {msg}', ignore: 'app' });
    return pino(settings, pretty);
  }
  // stdout through pino's own fast writer; another destination (tests) as given.
  return options.destination ? pino(settings, options.destination as DestinationStream) : pino(settings);
}

/** Nest's LoggerService on top of pino: `context` becomes a field, not a prefix. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: pino.Level, message: unknown, rest: unknown[]): void {
    // Nest passes the context last, and for errors a stack before it.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const stack = typeof rest[0] === 'string' ? (rest[0] as string) : undefined;
    if (message instanceof Error) {
      this.logger[level]({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ context, ...message });
    } else {
      this.logger[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
