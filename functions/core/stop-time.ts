/**
 * When a stream must end: a lifetime shortened by up to `jitter` of itself (so that
 * clients who connected together do not all reconnect together), capped by the
 * invocation deadline less a margin and by the token's expiry.
 */
export function stopTime(options: {
  readonly now: number;
  readonly lifetimeMs: number;
  readonly jitter: number;
  readonly random: () => number;
  readonly deadline?: number | undefined;
  readonly deadlineMarginMs?: number | undefined;
  readonly notAfter?: number | undefined;
}): number {
  const lifetime = options.lifetimeMs * (1 - options.jitter * options.random());
  let stopAt = options.now + lifetime;
  if (options.deadline !== undefined) {
    stopAt = Math.min(stopAt, options.deadline - (options.deadlineMarginMs ?? 0));
  }
  if (options.notAfter !== undefined) stopAt = Math.min(stopAt, options.notAfter);
  return stopAt;
}
