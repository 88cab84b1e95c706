import type { Positions } from './cursor.js';
import type { EventFeed } from './event-feed.js';
import {
  type EventLog,
  isRetained,
  type ReadOptions,
  type RetainedRange,
  readLimit,
  type StoredEvent,
} from './event-log.js';
import { PollInterval, type PollIntervalOptions } from './polling-feed.js';

/** Events a channel's ring keeps at most. */
export const DEFAULT_RING_EVENTS = 1_000;
/** Payload bytes (UTF-8 `data` plus `event` name) a channel's ring keeps at most. */
export const DEFAULT_RING_BYTES = 4 * 1024 * 1024;
/** A channel with no waiter and no read for this long has its poller stopped. */
export const DEFAULT_IDLE_STOP_MS = 10_000;
/** Events one poll reads; a full page is followed by another poll at once. */
export const DEFAULT_POLL_PAGE = 100;
/** Longest pause between retries after the log failed. */
export const DEFAULT_ERROR_BACKOFF_CAP_MS = 5_000;

export interface SharedFeedOptions {
  /** The adaptive poll interval of each channel's poller. */
  readonly interval?: PollIntervalOptions;
  /** @default DEFAULT_RING_EVENTS */
  readonly ringEvents?: number;
  /** @default DEFAULT_RING_BYTES */
  readonly ringBytes?: number;
  /** @default DEFAULT_IDLE_STOP_MS */
  readonly idleStopMs?: number;
  /** @default DEFAULT_POLL_PAGE */
  readonly pollPage?: number;
  /** @default DEFAULT_ERROR_BACKOFF_CAP_MS */
  readonly errorBackoffCapMs?: number;
  /**
   * The log's retention. When given, the ring never serves an event that has left
   * retention (the read falls through to the log, which reports the expiry), so
   * retention stays exact even on a quiet channel whose ring is old.
   * @default no age limit on ring entries
   */
  readonly retentionMs?: number;
  /** Milliseconds since the epoch, for {@link retentionMs} and idleness. @default Date.now */
  readonly clock?: () => number;
  /**
   * Told about every failed read of the log; the poller backs off and retries.
   * @default a `console.warn` line
   */
  readonly onError?: (error: unknown, channel: string) => void;
}

interface Waiter {
  /** The positions the caller holds, copied at registration. */
  readonly positions: ReadonlyMap<string, number>;
  readonly wake: () => void;
}

interface Channel {
  readonly name: string;
  readonly interval: PollInterval;
  readonly waiters: Set<Waiter>;
  /** Whether `head` and `base` are known (the first poll succeeded). */
  anchored: boolean;
  /** The highest position the poller has seen. */
  head: number;
  /** The ring holds positions `base + 1 … head`, contiguous and oldest first. */
  base: number;
  ring: StoredEvent[];
  ringBytes: number;
  /** Last time a waiter came or went or a read touched the channel. */
  lastActivity: number;
  failures: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  polling: boolean;
  /** News arrived while a poll was in flight: poll again at once after it. */
  nudged: boolean;
  /**
   * The highest position a nudge said the channel holds. A poll that still ends below
   * it read a lagging replica, and reads again strongly consistent.
   */
  wanted: number;
  stopped: boolean;
}

function eventBytes(event: StoredEvent): number {
  return Buffer.byteLength(event.data, 'utf8') + Buffer.byteLength(event.event, 'utf8');
}

const warn = (error: unknown, channel: string): void => {
  console.warn(`shared feed: reading channel ${JSON.stringify(channel)} failed; retrying`, error);
};

/**
 * The feed of a process that serves many connections (the Node server of the local
 * stack): one poller per channel that somebody waits on, shared by all of that
 * channel's subscribers, so reads of the event log grow with channels, not subscribers.
 *
 * Each poller reads `log.read(channel, head)` at an adaptive interval
 * ({@link PollInterval}: the minimum while events flow, doubling to the maximum while
 * idle), keeps a ring of the newest events (bounded by count and bytes) and wakes the
 * waiters that are behind. {@link read} serves from the ring when the position is in
 * it; anything older (a backlog) falls through to the log. A poller stops, clearing
 * its timer, once its channel has had no waiter and no read for `idleStopMs`.
 *
 * The ring is as fresh as the last poll: a read at the head may miss an event appended
 * since, exactly like a subscriber that polls the log itself a moment earlier. Nothing
 * is lost, because {@link waitForNews} resolves once the poller sees the event.
 *
 * Failures of the log are reported to `onError` and retried with back-off; they never
 * reject a waiter (a waiter then simply times out). Every timer is `unref()`ed, and
 * {@link close} clears them all.
 */
export class SharedFeed implements EventFeed {
  readonly #log: EventLog;
  readonly #intervalOptions: PollIntervalOptions;
  readonly #maxIntervalMs: number;
  readonly #ringEvents: number;
  readonly #ringBytes: number;
  readonly #idleStopMs: number;
  readonly #pollPage: number;
  readonly #errorBackoffCapMs: number;
  readonly #retentionMs: number | undefined;
  readonly #clock: () => number;
  readonly #onError: (error: unknown, channel: string) => void;
  readonly #channels = new Map<string, Channel>();
  /**
   * The positions (by the caller's map, with their content) that were last answered at
   * once. The same map with the same content back means the caller read and found
   * nothing (the events expired, or a replica lagged): it then sleeps one maximum poll
   * interval instead of spinning on the log.
   */
  readonly #answeredAtOnce = new WeakMap<Positions, string>();
  #closed = false;

  constructor(log: EventLog, options: SharedFeedOptions = {}) {
    this.#log = log;
    this.#intervalOptions = options.interval ?? {};
    // Fails early on a bad interval, rather than when the first poller starts.
    this.#maxIntervalMs = new PollInterval(this.#intervalOptions).maxMs;
    this.#ringEvents = positive('ringEvents', options.ringEvents ?? DEFAULT_RING_EVENTS);
    this.#ringBytes = positive('ringBytes', options.ringBytes ?? DEFAULT_RING_BYTES);
    this.#idleStopMs = positive('idleStopMs', options.idleStopMs ?? DEFAULT_IDLE_STOP_MS);
    this.#pollPage = readLimit({ limit: options.pollPage ?? DEFAULT_POLL_PAGE });
    this.#errorBackoffCapMs = positive(
      'errorBackoffCapMs',
      options.errorBackoffCapMs ?? DEFAULT_ERROR_BACKOFF_CAP_MS,
    );
    this.#retentionMs = options.retentionMs;
    this.#clock = options.clock ?? Date.now;
    this.#onError = options.onError ?? warn;
  }

  /** Channels with a running poller (for tests and metrics). */
  get activeChannels(): number {
    return this.#channels.size;
  }

  /** Channels whose poller knows its head, with that head (for the safety sweep). */
  *heldChannels(): IterableIterator<readonly [string, number]> {
    for (const state of this.#channels.values()) {
      if (state.anchored && !state.stopped) yield [state.name, state.head];
    }
  }

  async read(channel: string, after: number, options?: ReadOptions): Promise<StoredEvent[]> {
    const limit = readLimit(options);
    const state = this.#channels.get(channel);
    if (state !== undefined) state.lastActivity = this.#clock();
    if (
      state === undefined ||
      !state.anchored ||
      options?.consistent === true ||
      !Number.isSafeInteger(after) ||
      after < state.base
    ) {
      return this.#log.read(channel, after, options);
    }
    // `after` is at or beyond the ring's start: the ring knows everything up to `head`.
    const from = Math.max(0, after - state.base);
    const page = state.ring.slice(from, from + limit);
    const first = page[0];
    if (
      first !== undefined &&
      this.#retentionMs !== undefined &&
      !isRetained(first.time, this.#clock(), this.#retentionMs)
    ) {
      // Times never decrease along a channel: only the first can be the expired one.
      return this.#log.read(channel, after, options);
    }
    return page;
  }

  retained(channel: string): Promise<RetainedRange> {
    return this.#log.retained(channel);
  }

  waitForNews(positions: Positions, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || timeoutMs <= 0) return Promise.resolve();
    if (this.#closed) {
      // After close there are no pollers: behave like a feed that polls by sleeping.
      return unrefSleep(Math.min(timeoutMs, this.#maxIntervalMs), signal);
    }
    const snapshot = new Map(positions);
    if (snapshot.size === 0) return unrefSleep(timeoutMs, signal);
    const key = JSON.stringify([...snapshot]);
    const states: Channel[] = [];
    let behind = false;
    for (const [channel, position] of snapshot) {
      const state = this.#channel(channel);
      if (state.anchored && state.head > position) behind = true;
      states.push(state);
    }
    if (behind) {
      if (this.#answeredAtOnce.get(positions) !== key) {
        this.#answeredAtOnce.set(positions, key);
        return Promise.resolve();
      }
      // Told "news" for these very positions and the read found nothing: the events
      // expired, or a replica lagged. Pace the retries like a polling feed.
      return unrefSleep(Math.min(timeoutMs, this.#maxIntervalMs), signal);
    }
    this.#answeredAtOnce.delete(positions);

    return new Promise<void>((resolve) => {
      let settled = false;
      const wake = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        const now = this.#clock();
        for (const state of states) {
          state.waiters.delete(waiter);
          state.lastActivity = now;
        }
        resolve();
      };
      const waiter: Waiter = { positions: snapshot, wake };
      const timer = setTimeout(wake, timeoutMs);
      timer.unref();
      signal.addEventListener('abort', wake, { once: true });
      const now = this.#clock();
      for (const state of states) {
        state.waiters.add(waiter);
        state.lastActivity = now;
      }
    });
  }

  /**
   * Stops every poller, clears every timer and resolves every waiter. Reads keep working
   * (straight from the log); later waits just sleep up to the maximum poll interval.
   */
  close(): void {
    this.#closed = true;
    for (const state of [...this.#channels.values()]) this.#stop(state);
    this.#channels.clear();
  }

  /**
   * Says that `channel` has news (a writer in this process just appended to it, or the
   * change index says so), so its poller reads now instead of at its next interval.
   * Only a running poller is nudged: nothing starts for a channel nobody waits on. With
   * `head`, the position the channel is known to hold: a poller already there is left
   * alone, and one whose read comes back short reads again strongly consistent.
   */
  nudge(channel: string, head?: number): void {
    const state = this.#channels.get(channel);
    if (state === undefined || state.stopped || !state.anchored) return;
    if (head !== undefined) {
      if (state.head >= head) return;
      state.wanted = Math.max(state.wanted, head);
    }
    if (state.polling) {
      state.nudged = true;
      return;
    }
    if (state.timer !== undefined) clearTimeout(state.timer);
    state.timer = undefined;
    void this.#poll(state);
  }

  /** The channel's poller, started if it is not running. */
  #channel(name: string): Channel {
    let state = this.#channels.get(name);
    if (state === undefined) {
      state = {
        name,
        interval: new PollInterval(this.#intervalOptions),
        waiters: new Set(),
        anchored: false,
        head: 0,
        base: 0,
        ring: [],
        ringBytes: 0,
        lastActivity: this.#clock(),
        failures: 0,
        timer: undefined,
        polling: false,
        nudged: false,
        wanted: 0,
        stopped: false,
      };
      this.#channels.set(name, state);
      this.#schedule(state, 0);
    }
    return state;
  }

  #schedule(state: Channel, delayMs: number): void {
    if (state.stopped) return;
    const timer = setTimeout(() => {
      state.timer = undefined;
      void this.#poll(state);
    }, delayMs);
    timer.unref();
    state.timer = timer;
  }

  #stop(state: Channel): void {
    state.stopped = true;
    if (state.timer !== undefined) clearTimeout(state.timer);
    state.timer = undefined;
    for (const waiter of [...state.waiters]) waiter.wake();
    state.ring = [];
    state.ringBytes = 0;
    if (this.#channels.get(state.name) === state) this.#channels.delete(state.name);
  }

  async #poll(state: Channel): Promise<void> {
    if (state.stopped || state.polling) return;
    if (state.waiters.size === 0 && this.#clock() - state.lastActivity >= this.#idleStopMs) {
      this.#stop(state);
      return;
    }
    state.polling = true;
    let delay: number;
    try {
      if (!state.anchored) {
        // The poller starts at the channel's head: older events are a backlog that
        // subscribers read from the log themselves.
        const { last } = await this.#log.retained(state.name);
        if (state.stopped) return;
        state.anchored = true;
        state.head = last;
        state.base = last;
        this.#wakeBehind(state);
        delay = state.interval.next(false);
      } else {
        let page = await this.#log.read(state.name, state.head, { limit: this.#pollPage });
        if (state.stopped) return;
        const last = page.at(-1)?.position ?? state.head;
        if (page.length < this.#pollPage && last < state.wanted) {
          // Told of events this read did not return: an eventually consistent read
          // lagged behind the write. Read again, consistently, rather than wait for
          // the next poll.
          page = await this.#log.read(state.name, state.head, {
            limit: this.#pollPage,
            consistent: true,
          });
          if (state.stopped) return;
        }
        // One consistent read per nudge: an entry claiming more than the log holds
        // must not make every later poll read twice.
        state.wanted = 0;
        this.#append(state, page);
        if (page.length > 0) this.#wakeBehind(state);
        const next = state.interval.next(page.length > 0);
        delay = page.length >= this.#pollPage ? 0 : next;
      }
      state.failures = 0;
    } catch (error) {
      if (state.stopped) return;
      state.failures += 1;
      try {
        this.#onError(error, state.name);
      } catch {
        // A failing reporter must not stop the poller either.
      }
      delay = Math.min(
        this.#errorBackoffCapMs,
        state.interval.minMs * 2 ** Math.min(state.failures, 30),
      );
    } finally {
      state.polling = false;
    }
    if (state.nudged) {
      state.nudged = false;
      delay = 0;
    }
    this.#schedule(state, delay);
  }

  /** Adds a page read after `head` to the ring, keeping it contiguous and bounded. */
  #append(state: Channel, page: readonly StoredEvent[]): void {
    const first = page[0];
    if (first === undefined) return;
    if (first.position !== state.head + 1) {
      // Events expired before the poller saw them: the ring starts afresh after the gap.
      state.ring = [];
      state.ringBytes = 0;
      state.base = first.position - 1;
    }
    for (const event of page) {
      state.ring.push(event);
      state.ringBytes += eventBytes(event);
      state.head = event.position;
    }
    let drop = 0;
    let bytes = state.ringBytes;
    while (
      drop < state.ring.length &&
      (state.ring.length - drop > this.#ringEvents || bytes > this.#ringBytes)
    ) {
      bytes -= eventBytes(state.ring[drop] as StoredEvent);
      drop += 1;
    }
    if (drop > 0) {
      state.ring = state.ring.slice(drop);
      state.ringBytes = bytes;
      state.base += drop;
    }
  }

  #wakeBehind(state: Channel): void {
    for (const waiter of [...state.waiters]) {
      const position = waiter.positions.get(state.name);
      if (position !== undefined && position < state.head) waiter.wake();
    }
  }
}

/** Like `abortableSleep`, but its timer never holds the process open. */
function unrefSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`${name} must be a positive number, got ${value}`);
  }
  return value;
}
