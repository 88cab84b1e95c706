import { describe, expect, it } from 'vitest';
import type { EventFeed } from '../../../../functions/core/event-feed.js';
import type { StoredEvent } from '../../../../functions/core/event-log.js';
import {
  runStreamSession,
  type StreamSessionDependencies,
} from '../../../../functions/core/stream-session.js';

// A read or write that has already settled skips the stop-time timer and abort listener
// (a shared feed's ring answers that way). The outcome must be the one the timer and
// listener would have given: an abort that came first wins, a rejection propagates, and
// a read or write still pending at the stop time ends the stream.

const event = (position: number): StoredEvent => ({
  channel: 'room',
  position,
  event: 'message',
  data: `e${position}`,
  time: Date.UTC(2026, 0, 1),
});

/** The session reads `room` (retained 1…2) with `read`, and idles until aborted. */
function feedReading(read: EventFeed['read']): EventFeed {
  return {
    read,
    retained: async () => ({ first: 1, last: 2 }),
    waitForNews: (_positions, _timeout, signal) =>
      new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
  };
}

function session(
  feed: EventFeed,
  deps: Partial<StreamSessionDependencies> & { signal: AbortSignal },
  stopInMs = 60_000,
) {
  const chunks: string[] = [];
  const done = runStreamSession(
    {
      channels: ['room'],
      resume: { kind: 'earliest' },
      envelope: false,
      retryMs: 1000,
      heartbeatMs: 60_000,
      stopAt: Date.now() + stopInMs,
      byteBudget: 1_000_000,
      pageSize: 100,
      paddingBytes: 0,
    },
    { feed, clock: Date.now, write: (chunk) => void chunks.push(chunk), ...deps },
  );
  return { chunks, done };
}

describe('Function: runStreamSession, reads and writes that have already settled', () => {
  it('delivers a page whose read had settled, and one that settles later', async () => {
    const stop = new AbortController();
    let reads = 0;
    const feed = feedReading((_channel, after) => {
      reads += 1;
      const page = [event(1), event(2)].filter((e) => e.position > after);
      // The first read settles at once, the next ones a timer later.
      return reads === 1
        ? Promise.resolve(page)
        : new Promise((resolve) => setTimeout(() => resolve(page), 5));
    });
    const { chunks, done } = session(feed, { signal: stop.signal });
    await new Promise((resolve) => setTimeout(resolve, 30));
    stop.abort();

    expect(await done).toMatchObject({ events: 2, reason: 'aborted' });
    expect(chunks.slice(1).map((c) => c.match(/^data: (.*)$/m)?.[1])).toEqual(['e1', 'e2']);
  });

  it('sends nothing of a settled page when the abort came before it settled', async () => {
    const stop = new AbortController();
    const feed = feedReading(async () => {
      // The client goes away while the read is settling: it must not be written to.
      queueMicrotask(() => stop.abort());
      return [event(1), event(2)];
    });
    const { chunks, done } = session(feed, { signal: stop.signal });

    expect(await done).toMatchObject({ events: 0, reason: 'aborted' });
    expect(chunks).toHaveLength(1); // the open event
  });

  it('propagates a read that had already failed', async () => {
    const failure = new Error('store down');
    const feed = feedReading(() => Promise.reject(failure));

    await expect(session(feed, { signal: new AbortController().signal }).done).rejects.toBe(
      failure,
    );
  });

  it('still ends at the stop time on a read that never settles, and on a write that never drains', async () => {
    const reading = session(
      feedReading(() => new Promise<never>(() => undefined)),
      {
        signal: new AbortController().signal,
      },
      50,
    );
    let writes = 0;
    const writing = session(
      feedReading(async (_channel, after) => [event(1)].filter((e) => e.position > after)),
      {
        signal: new AbortController().signal,
        // The open event drains at once (already settled), the event never does.
        write: () => (++writes === 1 ? Promise.resolve() : new Promise<never>(() => undefined)),
      },
      50,
    );

    expect(await reading.done).toMatchObject({ events: 0, reason: 'lifetime' });
    expect(await writing.done).toMatchObject({ reason: 'stalled' });
    expect(writes).toBe(2);
  });
});
