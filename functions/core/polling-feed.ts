import { DEPLOYMENT_DEFAULTS } from '../config/environment.js';
import type { Positions } from './cursor.js';
import { abortableSleep, type EventFeed } from './event-feed.js';
import type { EventLog, ReadOptions, RetainedRange, StoredEvent } from './event-log.js';

export interface PollIntervalOptions {
  /** Interval while events flow. @default DEFAULT_POLL_MIN_MS */
  readonly minMs?: number;
  /** Interval a quiet channel backs off to. @default DEFAULT_POLL_MAX_MS */
  readonly maxMs?: number;
}

export const DEFAULT_POLL_MIN_MS = DEPLOYMENT_DEFAULTS.pollMinMs;
export const DEFAULT_POLL_MAX_MS = DEPLOYMENT_DEFAULTS.pollMaxMs;

/**
 * Adaptive poll interval: back to the minimum whenever there was news, doubling up to
 * the maximum while there is none. An idle subscriber then costs one read per channel
 * per `maxMs`, while a busy one sees events within `minMs`.
 */
export class PollInterval {
  readonly minMs: number;
  readonly maxMs: number;
  #current: number;

  constructor(options: PollIntervalOptions = {}) {
    this.minMs = options.minMs ?? DEFAULT_POLL_MIN_MS;
    this.maxMs = options.maxMs ?? DEFAULT_POLL_MAX_MS;
    if (!(this.minMs > 0 && this.maxMs >= this.minMs)) {
      throw new RangeError(`poll interval needs 0 < min ≤ max, got ${this.minMs}..${this.maxMs}`);
    }
    this.#current = this.minMs;
  }

  /** The interval to wait next, given whether the last poll found news. */
  next(hadNews: boolean): number {
    if (hadNews) this.#current = this.minMs;
    const wait = this.#current;
    this.#current = Math.min(this.#current * 2, this.maxMs);
    return wait;
  }
}

/**
 * One subscriber's feed straight on the event log: waiting for news is sleeping one
 * adaptive poll interval, after which the caller reads again. This is what a Lambda
 * stream does, since one invocation serves one request.
 */
export class PollingFeed implements EventFeed {
  readonly #log: EventLog;
  readonly #interval: PollInterval;
  #lastPositions: string | undefined;

  constructor(log: EventLog, interval: PollIntervalOptions = {}) {
    this.#log = log;
    this.#interval = new PollInterval(interval);
  }

  read(channel: string, after: number, options?: ReadOptions): Promise<StoredEvent[]> {
    return this.#log.read(channel, after, options);
  }

  retained(channel: string): Promise<RetainedRange> {
    return this.#log.retained(channel);
  }

  async waitForNews(positions: Positions, timeoutMs: number, signal: AbortSignal): Promise<void> {
    // Positions that moved since the last wait mean the last poll found events.
    const key = JSON.stringify([...positions]);
    const hadNews = this.#lastPositions !== undefined && key !== this.#lastPositions;
    this.#lastPositions = key;
    await abortableSleep(Math.min(this.#interval.next(hadNews), timeoutMs), signal);
  }
}
