import type { Positions } from './cursor.js';
import type { ReadOptions, RetainedRange, StoredEvent } from './event-log.js';

/**
 * What a stream session or a long poll reads from: the event log plus a way to wait
 * for news. Lambda gives every session its own feed that polls the log
 * ({@link PollingFeed}); the Node server gives all its connections one feed whose
 * per-channel pollers are shared, so its cost grows with channels, not subscribers.
 */
export interface EventFeed {
  read(channel: string, after: number, options?: ReadOptions): Promise<StoredEvent[]>;
  retained(channel: string): Promise<RetainedRange>;
  /**
   * Resolves when some channel may hold events after its position in `positions`,
   * when `timeoutMs` has passed, or when `signal` aborts, whichever comes first.
   * It never rejects, and it leaves no timer behind once resolved.
   */
  waitForNews(positions: Positions, timeoutMs: number, signal: AbortSignal): Promise<void>;
}

/** Reads every channel's retained range, in parallel. */
export async function retainedRanges(
  feed: EventFeed,
  channels: readonly string[],
): Promise<Map<string, RetainedRange>> {
  const ranges = await Promise.all(channels.map((c) => feed.retained(c)));
  return new Map(channels.map((c, i) => [c, ranges[i] as RetainedRange]));
}

/** Waits `ms`, or less if `signal` aborts; clears its timer either way. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
