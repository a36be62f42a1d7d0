/**
 * Exponential backoff, the one used by every retry loop of the product (connecting to a
 * dependency, holding a failing batch, recording a sent mail): the delay doubles from
 * `initialMs` up to `maxMs`.
 */
export class Backoff {
  private current: number;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {
    this.current = initialMs;
  }

  /** The delay to wait now; the next one is twice as long, up to the bound. */
  next(): number {
    const delay = this.current;
    this.current = Math.min(this.current * 2, this.maxMs);
    return delay;
  }

  /** The delay `next` would give, without moving on. */
  peek(): number {
    return this.current;
  }
}

/** Waits `ms`, or less once `stopped()` turns true, so a shutdown never waits out a backoff. */
export async function sleepUnless(ms: number, stopped: () => boolean = () => false): Promise<void> {
  const until = Date.now() + ms;
  while (!stopped() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, Math.min(100, until - Date.now())));
}

/** Resolves true when `promise` settles (either way) within `ms`, false otherwise; the promise goes on. */
export async function settlesWithin(promise: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      Promise.resolve(promise).then(
        () => true,
        () => true,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
