import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';

type Constructor<T> = new () => T;

/** Thrown when the environment does not satisfy an app's env class. */
export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment: ${problems.join('; ')}`);
    this.name = 'InvalidEnvironmentError';
  }
}

/** Variables whose value is never echoed: secrets, and URLs that may carry credentials. */
const SECRET_NAME = /(SECRET|PASSWORD|TOKEN|_KEYS?|_URL)$/;

function describe(errors: ValidationError[], source: NodeJS.ProcessEnv): string[] {
  return errors.map((e) => {
    const raw = source[e.property];
    const shown =
      raw === undefined || raw === '' ? 'not set' : SECRET_NAME.test(e.property) ? 'set; its value is not shown' : `got ${JSON.stringify(raw.slice(0, 200))}`;
    const rules = Object.values(e.constraints ?? {})
      .map((rule) => rule.replace(new RegExp(`^${e.property} `), ''))
      .join(', ');
    return `${e.property} ${rules} (${shown})`;
  });
}

/**
 * Validates `source` (default `process.env`) against `EnvClass` and returns the typed result.
 * Defaults declared on the class apply to unset variables; unknown variables are ignored.
 */
export function validateEnv<T extends object>(EnvClass: Constructor<T>, source: NodeJS.ProcessEnv = process.env): T {
  const defaults = new EnvClass() as Record<string, unknown>;
  const merged: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) {
    const raw = source[key];
    merged[key] = raw === undefined || raw === '' ? defaults[key] : raw;
  }
  const env = plainToInstance(EnvClass, merged, { enableImplicitConversion: true });
  const errors = validateSync(env, { forbidUnknownValues: false });
  if (errors.length > 0) throw new InvalidEnvironmentError(describe(errors, source));
  return env;
}

/**
 * Like {@link validateEnv}, but a bad environment stops the process at once with one line
 * naming the variable and exit code 1: an app must not half-start on a broken configuration.
 */
export function loadEnv<T extends object>(appName: string, EnvClass: Constructor<T>): T {
  try {
    return validateEnv(EnvClass);
  } catch (error) {
    if (!(error instanceof InvalidEnvironmentError)) throw error;
    process.stderr.write(`${appName}: ${error.message}\n`);
    process.exit(1);
  }
}
