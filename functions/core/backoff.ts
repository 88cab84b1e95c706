/**
 * Retry pacing shared by everything that talks to a throttled or contended service
 * (the DynamoDB event log, the writer).
 *
 * "Full jitter" (a uniformly random wait between 0 and an exponentially growing,
 * capped ceiling) spreads competing retries out in time, so writers that collided once
 * do not collide again in lockstep; in AWS's comparison of backoff schemes it did the
 * least work. See https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/.
 * Measured here: 20 writers on one DynamoDB Local channel needed 2.5× fewer transactions
 * with a 10 ms base than with a 1 ms base (docs/event-log.md).
 */

export interface BackoffOptions {
  /** Ceiling of the first retry's wait, in ms. */
  readonly baseMs: number;
  /** No wait is ever longer than this, in ms. */
  readonly capMs: number;
}

/**
 * Short enough that a Lambda retrying a contended DynamoDB item does not burn its
 * duration waiting, long enough to let the SDK-level throttling settle.
 */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 20, capMs: 2_000 };

/**
 * The ceiling of the wait before retry number `retry` (1 for the first retry):
 * `min(capMs, baseMs × 2^(retry − 1))`.
 */
export function backoffCeiling(retry: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  if (!Number.isInteger(retry) || retry < 1) {
    throw new RangeError(`retry must be a positive integer, got ${retry}`);
  }
  const { baseMs, capMs } = options;
  if (!(Number.isFinite(baseMs) && baseMs >= 0 && Number.isFinite(capMs) && capMs >= 0)) {
    throw new RangeError(`backoff needs finite, non-negative baseMs and capMs`);
  }
  // 2 ** 1024 is Infinity; min() still returns the cap, so large retry counts are safe.
  return Math.min(capMs, baseMs * 2 ** (retry - 1));
}

/**
 * The wait before retry number `retry`, in whole ms: uniformly random in
 * `[0, backoffCeiling(retry)]`. `random` is injectable so tests can pin it.
 */
export function backoffDelay(
  retry: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  return Math.round(random() * backoffCeiling(retry, options));
}

/** Waits `ms` milliseconds. Code that retries takes this as an option so tests never wait. */
export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
