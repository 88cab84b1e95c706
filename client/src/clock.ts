/**
 * The time a subscription reads and the timers it waits on, behind one small interface,
 * so that tests can move time by hand instead of waiting for it.
 */

export interface Clock {
  /** ms since the epoch */
  now(): number;
  /** Calls `fire` once, `ms` from now; the returned function cancels it (a no-op once fired). */
  timer(ms: number, fire: () => void): () => void;
}

/**
 * `Date.now` and `setTimeout`, looked up on every call rather than kept, so that a
 * runtime (or a test) that replaces them later is still the one asked.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  timer: (ms, fire) => {
    const handle = setTimeout(fire, ms);
    return () => clearTimeout(handle);
  },
};
