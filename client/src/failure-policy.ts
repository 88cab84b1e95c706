/**
 * What a subscription does after something failed: retry at once or after a backoff,
 * ask `/poll` why a stream failed, fetch a new token, fall back to polling, start over
 * from the latest event, or give up, and with which error. Decisions only: the
 * subscription carries them out.
 */
import type { HttpFailure, PollAnswer, PollOutcome } from './transports/poll.js';
import type { StreamOutcome } from './transports/stream.js';
import { SubscribeError } from './types.js';

/** What the subscription knows that a decision depends on. */
export interface FailureState {
  /** `transport: 'auto'`: a stream that does not work here gives way to polling for a while. */
  readonly canFallBack: boolean;
  /** There is a `getToken` to ask for another token. */
  readonly canRefreshToken: boolean;
  /** 401/403 answers in a row, each met with a fresh token. */
  readonly authRetries: number;
  /** Streams in a row that ended before showing they work. */
  readonly emptyEnds: number;
  /** The subscription sends a cursor (not starting from the latest event). */
  readonly hasCursor: boolean;
}

export type Next =
  /** Connect again at once. */
  | { readonly kind: 'reconnect' }
  /** Report the error, if any, then wait (full jitter, growing per failure) and connect again. */
  | { readonly kind: 'backoff'; readonly error?: SubscribeError }
  /** Report the error and poll for a while before streaming again. */
  | { readonly kind: 'fall-back'; readonly error: SubscribeError }
  /**
   * Forget the token and count an auth retry; then report the error and connect again
   * at once, or (not the first retry in a row) back off first.
   */
  | { readonly kind: 'refresh-token'; readonly error: SubscribeError; readonly atOnce: boolean }
  /** Tell every channel its cursor was invalid and start again from the latest event. */
  | { readonly kind: 'forget-cursor' }
  /** Report the error (`fatal`) and end the subscription. */
  | { readonly kind: 'give-up'; readonly error: SubscribeError };

/** Ask `/poll` from the same cursor why the stream failed, then {@link afterProbe}. */
export interface Probe {
  readonly kind: 'probe';
  readonly reason: string;
}

export interface StreamDecision {
  readonly next: Next | Probe;
  /** {@link FailureState.emptyEnds} from now on. */
  readonly emptyEnds: number;
}

/** A stream ended: `outcome` is what its transport saw. */
export function afterStream(outcome: StreamOutcome, state: FailureState): StreamDecision {
  const { emptyEnds } = state;
  switch (outcome.kind) {
    case 'stopped':
    case 'renew':
      return { next: { kind: 'reconnect' }, emptyEnds };
    case 'ended':
      // A clean end (lifetime, deploy) or a dropped connection: resume at once, with
      // jitter so that clients dropped together do not return together.
      if (outcome.healthy) return { next: { kind: 'backoff' }, emptyEnds };
      if (emptyEnds + 1 < 3) return { next: { kind: 'backoff' }, emptyEnds: emptyEnds + 1 };
      return {
        next: { kind: 'probe', reason: 'the stream keeps ending before it delivers anything' },
        emptyEnds: 0,
      };
    case 'refused':
      return { next: { kind: 'probe', reason: outcome.reason }, emptyEnds };
    case 'stalled': {
      const error = new SubscribeError('stalled', `stream stalled: ${outcome.reason}`);
      return {
        next: state.canFallBack ? { kind: 'fall-back', error } : { kind: 'backoff', error },
        emptyEnds,
      };
    }
  }
}

/** What `GET /poll?wait=0` answered after a stream failed for `reason`. */
export function afterProbe(reason: string, answer: PollOutcome, state: FailureState): Next {
  if (answer.kind === 'ok') {
    const error = new SubscribeError('network', `stream failed (${reason}) while /poll works`);
    return state.canFallBack ? { kind: 'fall-back', error } : { kind: 'backoff', error };
  }
  if (answer.kind === 'http') return afterHttp(answer, state);
  return {
    kind: 'backoff',
    error: new SubscribeError(answer.kind, `stream failed (${reason}); /poll: ${answer.message}`),
  };
}

/** A long poll failed. */
export function afterPoll(failure: Exclude<PollOutcome, PollAnswer>, state: FailureState): Next {
  if (failure.kind === 'http') return afterHttp(failure, state);
  return {
    kind: 'backoff',
    error: new SubscribeError(failure.kind, `poll failed: ${failure.message}`),
  };
}

/** The server answered with an error status. */
export function afterHttp(failure: HttpFailure, state: FailureState): Next {
  const { status } = failure;
  if (status === 401 || status === 403) {
    const code = status === 401 ? 'unauthorized' : 'forbidden';
    // A fresh token may be all it takes: at once the first time, with backoff after.
    if (state.canRefreshToken && (status === 401 || state.authRetries === 0)) {
      const error = new SubscribeError(code, failure.message, { status });
      return { kind: 'refresh-token', error, atOnce: state.authRetries === 0 };
    }
    return {
      kind: 'give-up',
      error: new SubscribeError(code, failure.message, { status, fatal: true }),
    };
  }
  if (status === 400 && failure.code === 'malformed_cursor' && state.hasCursor) {
    // Not a cursor this service issued (storage from another deployment, or damaged):
    // say so, then start from the latest event.
    return { kind: 'forget-cursor' };
  }
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    return { kind: 'backoff', error: new SubscribeError('network', failure.message, { status }) };
  }
  return {
    kind: 'give-up',
    error: new SubscribeError('bad_request', failure.message, { status, fatal: true }),
  };
}

/** `getToken` failed (threw, or gave no token): report it and try again after a backoff. */
export function afterTokenFailure(error: unknown): Next {
  return {
    kind: 'backoff',
    error:
      error instanceof SubscribeError
        ? error
        : new SubscribeError('token', 'getToken failed', { cause: error }),
  };
}
