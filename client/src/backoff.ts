/**
 * Reconnect pacing: exponential backoff with "full jitter", a wait drawn uniformly from
 * `[0, min(maxMs, baseMs × 2^attempt)]`. When a deploy or an outage drops thousands of
 * clients at once, full jitter spreads their reconnects over the whole window instead
 * of sending them back in waves (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 */

export interface BackoffOptions {
  /** Ceiling of the wait after the first failure, ms. */
  readonly baseMs: number;
  /** No wait is longer than this, ms. */
  readonly maxMs: number;
}

/** `attempt` counts failures in a row before this wait, from 0. */
export function backoffCeiling(attempt: number, options: BackoffOptions): number {
  // 2 ** 1024 is Infinity and min() still returns maxMs: large attempt counts are safe.
  return Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt));
}

/** The wait before the next attempt, whole ms, uniformly random up to the ceiling. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  return Math.round(random() * backoffCeiling(attempt, options));
}
