/** Exponential back-off settings; every delay is drawn with full jitter from [0, cap). */
export interface BackoffOptions {
  /** Cap of the first delay, in ms. Default 500. */
  initialDelay: number;
  /** Largest cap, in ms. Default 20000. */
  maxDelay: number;
  /** Growth of the cap per failed attempt. Default 2. */
  factor: number;
}

/** The documented reconnect and retry defaults. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialDelay: 500, maxDelay: 20_000, factor: 2 });

/**
 * Exponential back-off with full jitter: attempt n waits `random() * min(maxDelay,
 * initialDelay * factor^n)` ms, so clients that lost the same server spread their returns.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: Readonly<BackoffOptions> = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The cap of the next delay (before jitter), in ms. */
  cap(): number {
    const { initialDelay, maxDelay, factor } = this.options;
    return Math.min(maxDelay, initialDelay * factor ** this.attempt);
  }

  /** The delay before the next attempt, in ms; counts one more failed attempt. */
  next(): number {
    const delay = Math.floor(this.random() * this.cap());
    this.attempt++;
    return delay;
  }

  /** Starts the schedule over (after a success). */
  reset(): void {
    this.attempt = 0;
  }
}

/** Checks back-off settings, naming the option to fix. */
export function checkBackoff(options: Partial<BackoffOptions> | undefined, name: string): Readonly<BackoffOptions> {
  const merged = { ...DEFAULT_BACKOFF, ...options };
  if (!(merged.initialDelay >= 0) || !(merged.maxDelay >= merged.initialDelay) || !(merged.factor >= 1)) {
    throw new TypeError(`${name}: initialDelay must be >= 0, maxDelay >= initialDelay and factor >= 1 (got ${JSON.stringify(merged)})`);
  }
  return Object.freeze(merged);
}
