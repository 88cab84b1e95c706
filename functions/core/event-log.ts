/**
 * The per-channel event log: the one seam between the product's logic and its storage.
 *
 * Every implementation keeps these promises, checked by one contract suite
 * (`test/contract/event-log-contract.ts`) that runs against each of them:
 * - positions on a channel start at 1 and grow by exactly 1 per stored event: no gap,
 *   no duplicate, whatever the number of concurrent writers, and never reused, even
 *   after every event of a channel has expired;
 * - an event appended again with the same dedupe key (while the first is retained) is
 *   not stored twice: the append reports the original position;
 * - an event is readable from its append until `time + retention`, and not after
 *   (readers filter expired events themselves, since TTL deletion is lazy);
 * - `read` returns a contiguous run of positions: whoever sees position n has seen
 *   every retained position below it.
 */
import { DEPLOYMENT_DEFAULTS } from '../config/environment.js';

export interface NewEvent {
  /** Event name, already validated against the contract. */
  readonly event: string;
  /** Payload, verbatim. */
  readonly data: string;
  /** The publisher's dedupe id, or the SNS MessageId where there is none. */
  readonly dedupeKey: string;
}

export interface StoredEvent {
  readonly channel: string;
  readonly position: number;
  readonly event: string;
  readonly data: string;
  /** Append time, ms since the epoch. Never decreases along a channel. */
  readonly time: number;
}

export interface AppendOutcome {
  /** Where the event is stored: its new position, or the original one for a duplicate. */
  readonly position: number;
  /** True when the dedupe key had been stored before, so nothing new was written. */
  readonly duplicate: boolean;
}

/**
 * The positions still readable on a channel: `first..last` inclusive. `last` is the
 * highest position ever assigned (0 for a channel never written). When nothing is
 * retained, `first` is `last + 1`, so an empty range still tells where the log stands.
 */
export interface RetainedRange {
  readonly first: number;
  readonly last: number;
}

export interface ReadOptions {
  /** Most events to return. @default DEFAULT_READ_LIMIT */
  readonly limit?: number;
  /**
   * Ask the store for a strongly consistent read. Implementations already re-read
   * consistently when an eventually consistent read shows a gap.
   */
  readonly consistent?: boolean;
}

export const DEFAULT_READ_LIMIT = 100;
export const MAX_READ_LIMIT = 1000;

/** Events stay readable for 24 hours unless configured otherwise. */
export const DEFAULT_RETENTION_MS = DEPLOYMENT_DEFAULTS.retentionSeconds * 1000;

export interface EventLog {
  /**
   * Appends events to one channel, in the order given. Outcomes come back in the same
   * order. When the append fails part way, it throws {@link AppendFailedError} saying
   * how many leading events were stored; appending the rest again is safe because
   * the dedupe keys make it idempotent.
   */
  append(channel: string, events: readonly NewEvent[]): Promise<AppendOutcome[]>;

  /**
   * Retained events with a position greater than `after`, oldest first, starting at the
   * first retained one. Fewer than `limit` does not mean the end (stores page by size);
   * an empty result means there is nothing after `after` right now.
   */
  read(channel: string, after: number, options?: ReadOptions): Promise<StoredEvent[]>;

  /** The channel's retained range (see {@link RetainedRange}). */
  retained(channel: string): Promise<RetainedRange>;
}

/** An append stopped part way: the first `stored` events are in the log, the rest are not. */
export class AppendFailedError extends Error {
  override readonly name = 'AppendFailedError';
  constructor(
    readonly channel: string,
    readonly stored: number,
    options: { cause: unknown },
  ) {
    super(`append to channel ${JSON.stringify(channel)} failed after ${stored} event(s)`, options);
  }
}

/** Clamps a caller's page size to what implementations promise to serve. */
export function readLimit(options: ReadOptions | undefined): number {
  const limit = options?.limit ?? DEFAULT_READ_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`read limit must be a positive integer, got ${limit}`);
  }
  return Math.min(limit, MAX_READ_LIMIT);
}

/** Whether an event appended at `time` is still readable at `now`. */
export function isRetained(time: number, now: number, retentionMs: number): boolean {
  return now < time + retentionMs;
}
