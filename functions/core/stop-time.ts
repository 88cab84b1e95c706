/**
 * What set a stream's stop time, reported as its end reason (log line and metrics):
 * `lifetime` (the jittered lifetime came first), `deadline` (the invocation's deadline
 * less its margin) or `token` (the token's expiry).
 */
export type StopCause = 'lifetime' | 'deadline' | 'token';

export interface StopTime {
  /** Ms since the epoch. */
  readonly at: number;
  readonly cause: StopCause;
}

/**
 * When a stream must end: a lifetime shortened by up to `jitter` of itself (so that
 * clients who connected together do not all reconnect together), capped by the
 * invocation deadline less a margin and by the token's expiry. On a tie the cause is
 * the later-named one (a token expiring with the lifetime says `token`).
 */
export function stopTime(options: {
  readonly now: number;
  readonly lifetimeMs: number;
  readonly jitter: number;
  readonly random: () => number;
  readonly deadline?: number | undefined;
  readonly deadlineMarginMs?: number | undefined;
  readonly notAfter?: number | undefined;
}): StopTime {
  const lifetime = options.lifetimeMs * (1 - options.jitter * options.random());
  let stop: StopTime = { at: options.now + lifetime, cause: 'lifetime' };
  if (options.deadline !== undefined) {
    const at = options.deadline - (options.deadlineMarginMs ?? 0);
    if (at <= stop.at) stop = { at, cause: 'deadline' };
  }
  if (options.notAfter !== undefined && options.notAfter <= stop.at) {
    stop = { at: options.notAfter, cause: 'token' };
  }
  return stop;
}
