import { backoffDelay } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import {
  afterPoll,
  afterProbe,
  afterStream,
  afterTokenFailure,
  type FailureState,
  type Next,
} from './failure-policy.js';
import { endpointUrl } from './http.js';
import { CursorStore, cursorKey, memoryStorage } from './storage.js';
import { TokenSource } from './token.js';
import {
  longPollWait,
  openPoll,
  type PollOutcome,
  pauseAfterPoll,
  pollOnce,
} from './transports/poll.js';
import { openStream, type StreamOutcome, type StreamSink } from './transports/stream.js';
import {
  type ClientEvent,
  type ConnectionState,
  type CursorStorage,
  type EventSourceConstructor,
  type FetchLike,
  type ResetNotice,
  type StateInfo,
  SubscribeError,
  type TransportKind,
} from './types.js';

/** Every delay and bound the SDK uses, in ms unless named otherwise. */
export interface SubscribeTiming {
  /** A stream whose response headers do not arrive within this long does not work here. */
  readonly openTimeoutMs: number;
  /** A stream started without a cursor must deliver `stream.open` within this long. */
  readonly firstEventTimeoutMs: number;
  /**
   * A stream quiet for this long is compared with `GET /poll?wait=0` (one cheap request
   * per quiet interval): heartbeats are comments, which `EventSource` never shows, so
   * this is how a proxy that holds a resumed stream back is noticed.
   */
  readonly stallCheckMs: number;
  /** How long a stream gets to deliver the news such a check found. */
  readonly stallGraceMs: number;
  /** After falling back to polling, try streaming again after this long… */
  readonly streamRetryMs: number;
  /** …doubling each time streaming fails again, up to this. */
  readonly streamRetryMaxMs: number;
  /** Long-poll wait, seconds (the server allows 0–20). */
  readonly pollWaitSeconds: number;
  /** A request may take this much longer than its long-poll wait before it is abandoned. */
  readonly requestTimeoutMs: number;
  /** Reconnect backoff: ceiling of the first wait… */
  readonly backoffBaseMs: number;
  /** …and of every wait. */
  readonly backoffMaxMs: number;
  /** Fetch a new token this long before its `exp` (at most half its life). */
  readonly tokenRefreshMarginMs: number;
}

export const DEFAULT_TIMING: SubscribeTiming = {
  openTimeoutMs: 10_000,
  firstEventTimeoutMs: 10_000,
  stallCheckMs: 45_000,
  stallGraceMs: 5_000,
  streamRetryMs: 60_000,
  streamRetryMaxMs: 15 * 60_000,
  pollWaitSeconds: 20,
  requestTimeoutMs: 15_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
  tokenRefreshMarginMs: 30_000,
};

export type TransportOption = 'auto' | 'sse' | 'poll';

export interface SubscribeOptions {
  /** The service's base URL (stack output `StreamUrl`; locally `http://127.0.0.1:8787`). */
  readonly url: string;
  readonly channels: readonly string[];
  /** A fixed token for private channels, sent as `?token=`. */
  readonly token?: string;
  /**
   * Returns a token for private channels (sent as `?token=`). Called on first use,
   * shortly before the token's `exp`, and after the server answers 401.
   */
  readonly getToken?: () => string | Promise<string>;
  /** Each event, once, in order. */
  readonly onEvent: (event: ClientEvent) => void;
  /** The server could not resume where asked; without it, resets go to `onError`. */
  readonly onReset?: (reset: ResetNotice) => void;
  readonly onStateChange?: (state: ConnectionState, info: StateInfo) => void;
  /** Every error; those with `fatal` ended the subscription. */
  readonly onError?: (error: SubscribeError) => void;
  /** Where the cursor is kept between runs. @default memory (nothing survives a reload) */
  readonly storage?: CursorStorage;
  /** @default derived from `url` and `channels` ({@link cursorKey}) */
  readonly storageKey?: string;
  /**
   * Where to start when storage holds no cursor: `latest` (only events published from
   * now on), `earliest` (everything retained) or a cursor the app kept itself.
   * @default 'latest'
   */
  readonly from?: string;
  /**
   * `auto` streams with `EventSource` where there is one and it works, and long-polls
   * otherwise; `sse` and `poll` use only that.
   * @default 'auto'
   */
  readonly transport?: TransportOption;
  /** @default globalThis.EventSource; `null` means none */
  readonly EventSource?: EventSourceConstructor | null;
  /** @default globalThis.fetch */
  readonly fetch?: FetchLike;
  readonly timing?: Partial<SubscribeTiming>;
  /** @default Math.random (backoff jitter) */
  readonly random?: () => number;
}

/** Ends the subscription: closes the connection and stops every timer. */
export type Unsubscribe = () => void;

/**
 * Subscribes to channels and calls `onEvent` for every event, once, in order, whatever
 * the transport does underneath: a stream (`/events`, `EventSource`) where one works,
 * long-polling (`/poll`) where it does not, reconnecting with backoff and resuming from
 * the last cursor every time. The cursor is saved to `storage` after each event, so a
 * page or app that starts again with the same storage resumes where it stopped.
 *
 * @throws TypeError when the options cannot work (no channel, `transport: 'sse'` with
 * no EventSource, no fetch).
 */
export function subscribe(options: SubscribeOptions): Unsubscribe {
  return subscribeWithClock(options, systemClock);
}

/** {@link subscribe}, reading the time and waiting on `clock` (a test's fake one). */
export function subscribeWithClock(options: SubscribeOptions, clock: Clock): Unsubscribe {
  const subscription = new Subscription(options, clock);
  void subscription.run();
  return () => subscription.close();
}

function defaultEventSource(): EventSourceConstructor | undefined {
  const value: unknown = Reflect.get(globalThis, 'EventSource');
  return typeof value === 'function' ? (value as EventSourceConstructor) : undefined;
}

function defaultFetch(): FetchLike | undefined {
  if (typeof globalThis.fetch !== 'function') return undefined;
  return (url, init) => globalThis.fetch(url, init);
}

/** Longest delay `setTimeout` takes (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

class Subscription {
  readonly #options: SubscribeOptions;
  readonly #clock: Clock;
  readonly #channels: string[];
  readonly #timing: SubscribeTiming;
  readonly #mode: TransportOption;
  readonly #EventSource: EventSourceConstructor | undefined;
  readonly #fetch: FetchLike;
  readonly #random: () => number;
  readonly #tokens: TokenSource;
  readonly #store: CursorStore;

  #cursor: string | undefined;
  #closed = false;
  #state: ConnectionState | undefined;
  #transport: TransportKind;
  /** Failures in a row: the backoff exponent. */
  #failures = 0;
  /** Streams in a row that ended before showing they work. */
  #emptyEnds = 0;
  /** 401/403 answers in a row, each met with a fresh token. */
  #authRetries = 0;
  /** While falling back (auto): poll until then, then try streaming again. 0: not falling back. */
  #fallbackUntil = 0;
  #streamRetryMs: number;
  /** Stops the running transport. */
  #stop: ((kind: 'stopped' | 'renew') => void) | undefined;
  /** Ends a backoff wait early (unsubscribe). */
  #wake: (() => void) | undefined;

  constructor(options: SubscribeOptions, clock: Clock) {
    this.#options = options;
    this.#clock = clock;
    this.#channels = [...new Set(options.channels)];
    if (typeof options.url !== 'string' || options.url === '') {
      throw new TypeError('subscribe: url is required');
    }
    if (this.#channels.length === 0) throw new TypeError('subscribe: at least one channel');
    if (typeof options.onEvent !== 'function')
      throw new TypeError('subscribe: onEvent is required');
    this.#timing = { ...DEFAULT_TIMING, ...options.timing };
    this.#mode = options.transport ?? 'auto';
    this.#EventSource =
      options.EventSource === null ? undefined : (options.EventSource ?? defaultEventSource());
    const fetchFn = options.fetch ?? defaultFetch();
    if (fetchFn === undefined) throw new TypeError('subscribe: no fetch in this runtime');
    this.#fetch = fetchFn;
    if (this.#mode === 'sse' && this.#EventSource === undefined) {
      throw new TypeError("subscribe: transport 'sse' needs an EventSource");
    }
    this.#transport = this.#chooseTransport();
    this.#random = options.random ?? Math.random;
    this.#streamRetryMs = this.#timing.streamRetryMs;
    this.#tokens = new TokenSource({
      token: options.token,
      getToken: options.getToken,
      refreshMarginMs: this.#timing.tokenRefreshMarginMs,
      clock: () => clock.now(),
    });
    this.#store = new CursorStore(
      options.storage ?? memoryStorage(),
      options.storageKey ?? cursorKey(options.url, this.#channels),
      (error) =>
        this.#report(new SubscribeError('storage', 'cursor storage failed', { cause: error })),
    );
  }

  async run(): Promise<void> {
    const stored = await this.#store.load();
    const from = this.#options.from;
    this.#cursor = stored ?? (from === undefined || from === 'latest' ? undefined : from);
    while (!this.#closed) {
      const kind = this.#chooseTransport();
      if (
        this.#state === undefined ||
        (kind !== this.#transport && this.#state !== 'reconnecting')
      ) {
        this.#setState('connecting', kind);
      }
      this.#transport = kind;
      if (kind === 'sse') await this.#stream();
      else await this.#poll();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop?.('stopped');
    this.#wake?.();
    this.#setState('closed', this.#transport);
  }

  #chooseTransport(): TransportKind {
    if (this.#mode === 'poll' || this.#EventSource === undefined) return 'poll';
    if (this.#mode === 'sse') return 'sse';
    return this.#clock.now() < this.#fallbackUntil ? 'poll' : 'sse';
  }

  // ---- streaming ------------------------------------------------------------------

  async #stream(): Promise<void> {
    const EventSourceClass = this.#EventSource;
    const token = await this.#token();
    if (token === FAILED || this.#closed || EventSourceClass === undefined) return;
    const cursor = this.#cursor;
    const url = endpointUrl(this.#options.url, 'events', this.#channels, {
      envelope: '1',
      lastEventId: cursor,
      token,
    });
    const handle = openStream(
      EventSourceClass,
      url,
      {
        expectOpenEvent: cursor === undefined || cursor === 'earliest',
        timing: this.#timing,
        clock: this.#clock,
      },
      this.#streamSink(token),
    );
    this.#stop = handle.stop;
    // Reconnect with a fresh token shortly before this one expires (the server would
    // end the stream at its expiry anyway).
    const refreshAt = this.#tokens.refreshAt;
    const cancelRenew =
      refreshAt !== undefined && refreshAt > this.#clock.now()
        ? this.#clock.timer(Math.min(MAX_TIMEOUT_MS, refreshAt - this.#clock.now()), () =>
            handle.stop('renew'),
          )
        : undefined;
    const outcome = await handle.done;
    cancelRenew?.();
    this.#stop = undefined;
    if (!this.#closed) await this.#afterStream(outcome, token);
  }

  /** @param token the stream's own token: probes must ask what the stream asked. */
  #streamSink(token: string | undefined): StreamSink {
    return {
      opened: () => {
        this.#authRetries = 0;
        // Resuming from a cursor fixes the place at once; otherwise stream.open will.
        if (this.#cursor !== undefined && this.#cursor !== 'earliest') this.#live('sse');
      },
      event: (event) => this.#deliver(event),
      started: (cursor) => {
        this.#moveCursor(cursor);
        this.#live('sse');
      },
      reset: (reset, cursor) => {
        this.#notifyReset({ ...reset, transport: 'sse' });
        this.#moveCursor(cursor);
        this.#live('sse');
      },
      malformed: (cursor, what) => {
        this.#report(new SubscribeError('protocol', `the stream sent ${what}`));
        this.#moveCursor(cursor);
      },
      healthy: () => {
        this.#failures = 0;
        this.#emptyEnds = 0;
        this.#fallbackUntil = 0;
        this.#streamRetryMs = this.#timing.streamRetryMs;
      },
      probe: (signal) => this.#probe(token, signal),
    };
  }

  async #afterStream(outcome: StreamOutcome, token: string | undefined): Promise<void> {
    const { next, emptyEnds } = afterStream(outcome, this.#failureState());
    this.#emptyEnds = emptyEnds;
    if (next.kind === 'probe') return this.#streamFailed(next.reason, token);
    return this.#follow(next);
  }

  /**
   * The stream failed and `EventSource` cannot say why (it never exposes the status):
   * `/poll` answers the same question with a status and a JSON error.
   */
  async #streamFailed(reason: string, token: string | undefined): Promise<void> {
    const controller = new AbortController();
    this.#stop = () => controller.abort();
    const answer = await this.#probe(token, controller.signal);
    this.#stop = undefined;
    if (this.#closed) return;
    return this.#follow(afterProbe(reason, answer, this.#failureState()));
  }

  /** Polls for a while, then tries streaming again (each failure doubles the while). */
  #fallBack(error: SubscribeError): void {
    this.#report(error);
    this.#fallbackUntil = this.#clock.now() + this.#streamRetryMs;
    this.#streamRetryMs = Math.min(this.#timing.streamRetryMaxMs, this.#streamRetryMs * 2);
    this.#setState('connecting', 'poll', { error });
  }

  #probe(token: string | undefined, signal: AbortSignal): Promise<PollOutcome> {
    const url = endpointUrl(this.#options.url, 'poll', this.#channels, {
      cursor: this.#cursor,
      wait: '0',
      token,
    });
    return pollOnce(this.#fetch, url, this.#timing.requestTimeoutMs, signal, this.#clock);
  }

  // ---- long-polling ---------------------------------------------------------------

  async #poll(): Promise<void> {
    while (!this.#closed) {
      const untilStream = this.#fallbackUntil - this.#clock.now();
      if (this.#chooseTransport() !== 'poll') return; // time to try streaming again
      const token = await this.#token();
      if (token === FAILED || this.#closed) return;
      const wait = longPollWait(
        this.#cursor,
        this.#timing.pollWaitSeconds,
        this.#fallbackUntil > 0 ? untilStream : undefined,
      );
      const url = endpointUrl(this.#options.url, 'poll', this.#channels, {
        cursor: this.#cursor,
        wait: String(wait),
        token,
      });
      const startedAt = this.#clock.now();
      const handle = openPoll(this.#fetch, url, {
        timeoutMs: wait * 1000 + this.#timing.requestTimeoutMs,
        clock: this.#clock,
      });
      this.#stop = handle.stop;
      const answer = await handle.done;
      this.#stop = undefined;
      if (this.#closed) return;
      if (answer.kind !== 'ok') return this.#follow(afterPoll(answer, this.#failureState()));
      this.#failures = 0;
      this.#authRetries = 0;
      this.#live('poll');
      for (const reset of answer.resets) {
        if (this.#closed) return;
        this.#notifyReset({ ...reset, transport: 'poll' });
      }
      for (const event of answer.events) {
        if (this.#closed) return;
        this.#deliver(event);
      }
      if (this.#closed) return;
      this.#moveCursor(answer.cursor);
      const pause = pauseAfterPoll(answer, wait, this.#clock.now() - startedAt);
      if (pause > 0) await this.#sleep(pause);
    }
  }

  // ---- errors and retries -----------------------------------------------------------

  #failureState(): FailureState {
    return {
      canFallBack: this.#mode === 'auto',
      canRefreshToken: this.#tokens.canRefresh,
      authRetries: this.#authRetries,
      emptyEnds: this.#emptyEnds,
      hasCursor: this.#cursor !== undefined,
    };
  }

  /** Carries out what the failure policy decided. */
  async #follow(next: Next): Promise<void> {
    switch (next.kind) {
      case 'reconnect':
        return;
      case 'backoff':
        return this.#backoff(next.error);
      case 'fall-back':
        return this.#fallBack(next.error);
      case 'refresh-token':
        this.#tokens.invalidate();
        this.#authRetries += 1;
        if (next.atOnce) return this.#report(next.error);
        return this.#backoff(next.error);
      case 'forget-cursor':
        for (const channel of this.#channels) {
          this.#notifyReset({ channel, reason: 'invalid_cursor', transport: this.#transport });
        }
        this.#cursor = undefined;
        this.#store.save('');
        return;
      case 'give-up':
        return this.#fatal(next.error);
    }
  }

  /** Waits (full jitter, growing with each failure in a row) before the next attempt. */
  async #backoff(error?: SubscribeError): Promise<void> {
    const delay = backoffDelay(
      this.#failures,
      { baseMs: this.#timing.backoffBaseMs, maxMs: this.#timing.backoffMaxMs },
      this.#random,
    );
    this.#failures += 1;
    if (error !== undefined) this.#report(error);
    if (this.#closed) return;
    this.#setState('reconnecting', this.#transport, {
      retryInMs: delay,
      ...(error === undefined ? {} : { error }),
    });
    await this.#sleep(delay);
  }

  /** Waits `ms`, or less if the subscription ends meanwhile. */
  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const cancel = this.#clock.timer(ms, resolve);
      this.#wake = () => {
        cancel();
        resolve();
      };
    });
    this.#wake = undefined;
  }

  #fatal(error: SubscribeError): void {
    this.#report(error);
    this.#closed = true;
    this.#setState('closed', this.#transport, { error });
  }

  /** The token for the next request; a failing `getToken` is reported and retried. */
  async #token(): Promise<string | undefined | typeof FAILED> {
    try {
      return await this.#tokens.get();
    } catch (error) {
      await this.#follow(afterTokenFailure(error));
      return FAILED;
    }
  }

  // ---- delivery ---------------------------------------------------------------------

  #deliver(event: ClientEvent): void {
    try {
      this.#options.onEvent(event);
    } catch (error) {
      this.#report(new SubscribeError('handler', 'onEvent threw', { cause: error }));
    }
    this.#moveCursor(event.id);
  }

  #notifyReset(reset: ResetNotice): void {
    const onReset = this.#options.onReset;
    if (onReset === undefined) {
      const missed = reset.missed === undefined ? '' : `, ${reset.missed} missed`;
      this.#report(
        new SubscribeError('reset', `stream.reset on ${reset.channel}: ${reset.reason}${missed}`),
      );
      return;
    }
    try {
      onReset(reset);
    } catch (error) {
      this.#report(new SubscribeError('handler', 'onReset threw', { cause: error }));
    }
  }

  #moveCursor(cursor: string): void {
    if (cursor === '' || cursor === this.#cursor) return;
    this.#cursor = cursor;
    this.#store.save(cursor);
  }

  #live(kind: TransportKind): void {
    this.#setState(kind === 'sse' ? 'open' : 'polling', kind);
  }

  #setState(
    state: ConnectionState,
    transport: TransportKind,
    extra: { error?: SubscribeError; retryInMs?: number } = {},
  ): void {
    const changed = state !== this.#state || transport !== this.#transport;
    this.#state = state;
    this.#transport = transport;
    if (!changed && extra.error === undefined && extra.retryInMs === undefined) return;
    try {
      this.#options.onStateChange?.(state, { transport, attempt: this.#failures, ...extra });
    } catch (error) {
      this.#report(new SubscribeError('handler', 'onStateChange threw', { cause: error }));
    }
  }

  #report(error: SubscribeError): void {
    const onError = this.#options.onError;
    if (onError === undefined) {
      // An app handler that throws must not go unnoticed: rethrow it out of band, as
      // an EventSource listener's exception would be.
      if (error.code === 'handler') {
        setTimeout(() => {
          throw error.cause ?? error;
        }, 0);
      }
      return;
    }
    try {
      onError(error);
    } catch {
      // An error handler that throws has nowhere better to go.
    }
  }
}

const FAILED: unique symbol = Symbol('failed');
