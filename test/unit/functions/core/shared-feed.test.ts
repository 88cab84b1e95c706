import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  AppendOutcome,
  EventLog,
  NewEvent,
  ReadOptions,
  RetainedRange,
  StoredEvent,
} from '../../../../functions/core/event-log.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import { SharedFeed, type SharedFeedOptions } from '../../../../functions/core/shared-feed.js';
import { ManualClock } from '../../../contract/event-log-contract.js';

/** An event log that counts (and can fail) reads, around a real one. */
class CountingLog implements EventLog {
  readonly reads: { channel: string; after: number; at: number }[] = [];
  retainedCalls = 0;
  failing = false;

  constructor(readonly inner: EventLog) {}

  append(channel: string, events: readonly NewEvent[]): Promise<AppendOutcome[]> {
    return this.inner.append(channel, events);
  }

  async read(channel: string, after: number, options?: ReadOptions): Promise<StoredEvent[]> {
    this.reads.push({ channel, after, at: Date.now() });
    if (this.failing) throw new Error('log unavailable');
    return this.inner.read(channel, after, options);
  }

  async retained(channel: string): Promise<RetainedRange> {
    this.retainedCalls += 1;
    if (this.failing) throw new Error('log unavailable');
    return this.inner.retained(channel);
  }

  readsOf(channel: string): number {
    return this.reads.filter((r) => r.channel === channel).length;
  }
}

/** A promise's state, observable without awaiting it. */
function track(promise: Promise<void>): { readonly done: boolean; readonly failed: boolean } {
  const state = { done: false, failed: false };
  promise.then(
    () => {
      state.done = true;
    },
    () => {
      state.failed = true;
    },
  );
  return state;
}

let sequence = 0;
function publish(
  log: EventLog,
  channel: string,
  count: number,
  size = 1,
): Promise<AppendOutcome[]> {
  return log.append(
    channel,
    Array.from({ length: count }, () => {
      sequence += 1;
      return { event: 'message', data: 'x'.repeat(size), dedupeKey: `k-${sequence}` };
    }),
  );
}

const at = (channel: string, position: number) => new Map([[channel, position]]);

describe('Class: SharedFeed', () => {
  let memory: MemoryEventLog;
  let log: CountingLog;
  let feed: SharedFeed | undefined;
  let errors: unknown[];
  const controller = () => new AbortController();

  const createFeed = (options: SharedFeedOptions = {}): SharedFeed => {
    feed = new SharedFeed(log, {
      interval: { minMs: 100, maxMs: 800 },
      onError: (error) => errors.push(error),
      ...options,
    });
    return feed;
  };

  beforeEach(() => {
    vi.useFakeTimers();
    memory = new MemoryEventLog();
    log = new CountingLog(memory);
    errors = [];
  });

  afterEach(() => {
    feed?.close();
    feed = undefined;
    vi.useRealTimers();
  });

  describe('Method: nudge', () => {
    it('makes an idle poller read at once, waking its waiters without waiting an interval', async () => {
      // Prepare: idle long enough for the interval to reach its 800 ms ceiling
      const shared = createFeed();
      const wait = track(shared.waitForNews(at('a', 0), 60_000, controller().signal));
      await vi.advanceTimersByTimeAsync(2_300);
      const readsBefore = log.readsOf('a');

      // Act
      await publish(memory, 'a', 1);
      shared.nudge('a');
      await vi.advanceTimersByTimeAsync(0);

      // Assess
      expect(log.readsOf('a')).toBe(readsBefore + 1);
      expect(wait.done).toBe(true);
    });

    it('ignores a nudge for a head the poller already has', async () => {
      const shared = createFeed({ interval: { minMs: 60_000, maxMs: 60_000 } });
      await publish(memory, 'a', 2);
      void shared.waitForNews(at('a', 2), 60_000, controller().signal);
      await vi.advanceTimersByTimeAsync(0);
      const readsBefore = log.readsOf('a');

      shared.nudge('a', 2);
      await vi.advanceTimersByTimeAsync(1_000);

      expect(log.readsOf('a')).toBe(readsBefore);
    });

    it('reads again, strongly consistent, when a nudge names events the first read did not return', async () => {
      // Prepare: a replica that lags: eventually consistent reads miss the newest event
      const lagging: EventLog = {
        append: (channel, events) => memory.append(channel, events),
        retained: (channel) => memory.retained(channel),
        read: async (channel, after, options) => {
          log.reads.push({ channel, after, at: Date.now() });
          const page = await memory.read(channel, after, options);
          return options?.consistent === true ? page : page.slice(0, -1);
        },
      };
      const consistentReads: boolean[] = [];
      const shared = new SharedFeed(
        {
          ...lagging,
          read: (channel, after, options) => {
            consistentReads.push(options?.consistent === true);
            return lagging.read(channel, after, options);
          },
        },
        { interval: { minMs: 60_000, maxMs: 60_000 } },
      );
      feed = shared;
      const wait = track(shared.waitForNews(at('a', 0), 120_000, controller().signal));
      await vi.advanceTimersByTimeAsync(0);

      // Act: the index says the channel holds position 1
      await publish(memory, 'a', 1);
      shared.nudge('a', 1);
      await vi.advanceTimersByTimeAsync(0);

      // Assess: the second read was consistent and found it; the waiter woke at once
      expect(consistentReads).toEqual([false, true]);
      expect(wait.done).toBe(true);
      expect((await shared.read('a', 0)).map((e) => e.position)).toEqual([1]);
    });

    it('starts nothing for a channel nobody waits on', async () => {
      const shared = createFeed();
      shared.nudge('quiet');
      await vi.advanceTimersByTimeAsync(5_000);
      expect(log.readsOf('quiet')).toBe(0);
      expect(log.retainedCalls).toBe(0);
      expect(shared.activeChannels).toBe(0);
    });
  });

  describe('Method: waitForNews', () => {
    it.each([1, 50])('reads the log once per poll interval with %i waiter(s)', async (waiters) => {
      // Prepare
      const shared = createFeed();
      const waits = Array.from({ length: waiters }, () =>
        track(shared.waitForNews(at('a', 0), 60_000, controller().signal)),
      );

      // Act: idle, the interval doubles from 100 ms to its 800 ms ceiling
      await vi.advanceTimersByTimeAsync(2_300);

      // Assess
      expect(log.retainedCalls).toBe(1);
      const start = log.reads[0]?.at ?? 0;
      expect(log.reads.map((r) => r.at - start)).toEqual([0, 200, 600, 1_400, 2_200]);
      expect(waits.every((w) => !w.done)).toBe(true);

      // Act: news wakes every waiter with one more read
      await publish(memory, 'a', 1);
      await vi.advanceTimersByTimeAsync(800);

      // Assess
      expect(log.readsOf('a')).toBe(6);
      expect(waits.every((w) => w.done && !w.failed)).toBe(true);
    });

    it('goes back to the minimum interval while events flow', async () => {
      // Prepare
      const shared = createFeed();
      const follower = controller();
      const signal = follower.signal;
      let position = 0;
      const follow = async (): Promise<void> => {
        for (;;) {
          await shared.waitForNews(at('a', position), 60_000, signal);
          if (signal.aborted) return;
          const page = await shared.read('a', position);
          position = page.at(-1)?.position ?? position;
        }
      };
      void follow();
      await vi.advanceTimersByTimeAsync(1_500); // reads at 100, 300, 700, 1500

      // Act
      await publish(memory, 'a', 1);
      await vi.advanceTimersByTimeAsync(800); // read at 2300 finds it
      await publish(memory, 'a', 1);
      await vi.advanceTimersByTimeAsync(100); // read at 2400 finds the next
      await vi.advanceTimersByTimeAsync(600); // quiet again: 2500, 2700
      follower.abort();

      // Assess
      const times = log.reads.filter((r) => r.channel === 'a').map((r) => r.at);
      const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
      expect(gaps).toEqual([200, 400, 800, 800, 100, 100, 200]);
      expect(position).toBe(2);
    });

    it('resolves at once when the poller knows of events after the position', async () => {
      // Prepare
      const shared = createFeed();
      await publish(memory, 'a', 3);
      const first = track(shared.waitForNews(at('a', 3), 60_000, controller().signal));
      await vi.advanceTimersByTimeAsync(0); // the poller anchors at the head (3)
      expect(first.done).toBe(false);

      // Act
      const behind = track(shared.waitForNews(at('a', 1), 60_000, controller().signal));
      await vi.advanceTimersByTimeAsync(0);

      // Assess
      expect(behind.done).toBe(true);
      expect(first.done).toBe(false);
    });

    it('wakes a waiter on several channels when any of them has news', async () => {
      // Prepare
      const shared = createFeed();
      const wait = track(
        shared.waitForNews(
          new Map([
            ['a', 0],
            ['b', 0],
          ]),
          60_000,
          controller().signal,
        ),
      );
      await vi.advanceTimersByTimeAsync(300);
      expect(wait.done).toBe(false);

      // Act
      await publish(memory, 'b', 1);
      await vi.advanceTimersByTimeAsync(400);

      // Assess
      expect(wait.done).toBe(true);
    });

    it('resolves when its timeout passes, and on abort, leaving only the poller timer', async () => {
      // Prepare
      const shared = createFeed();
      const aborter = controller();
      const timed = track(shared.waitForNews(at('a', 0), 250, controller().signal));
      const aborted = track(shared.waitForNews(at('a', 0), 60_000, aborter.signal));

      // Act
      await vi.advanceTimersByTimeAsync(250);
      aborter.abort();
      await vi.advanceTimersByTimeAsync(0);

      // Assess
      expect(timed.done).toBe(true);
      expect(aborted.done).toBe(true);
      expect(vi.getTimerCount()).toBe(1);
      await expect(shared.waitForNews(at('a', 0), 1_000, aborter.signal)).resolves.toBeUndefined();
      await expect(shared.waitForNews(at('a', 0), 0, controller().signal)).resolves.toBeUndefined();
    });

    it('never rejects while the log fails, backs off, and recovers', async () => {
      // Prepare
      const shared = createFeed({ errorBackoffCapMs: 1_000 });
      log.failing = true;
      const waiting = track(shared.waitForNews(at('a', 0), 60_000, controller().signal));
      const timing = track(shared.waitForNews(at('a', 0), 2_000, controller().signal));

      // Act: the anchor fails, then retries back off 200, 400, 800, 1000 ms
      await vi.advanceTimersByTimeAsync(2_500);

      // Assess
      expect(log.retainedCalls).toBe(5);
      expect(errors.length).toBe(5);
      expect(timing).toEqual({ done: true, failed: false });
      expect(waiting).toEqual({ done: false, failed: false });

      // Act: the log comes back, and an event is published
      log.failing = false;
      await publish(memory, 'a', 1);
      await vi.advanceTimersByTimeAsync(1_000); // the anchor sees head 1 > 0

      // Assess
      expect(waiting).toEqual({ done: true, failed: false });
      expect(errors.length).toBe(5);
    });

    it('keeps polling after a failed read, and wakes waiters once reads work again', async () => {
      // Prepare
      const shared = createFeed();
      const wait = track(shared.waitForNews(at('a', 0), 60_000, controller().signal));
      await vi.advanceTimersByTimeAsync(100); // anchored at 0, first read done
      log.failing = true;
      await vi.advanceTimersByTimeAsync(1_000);
      expect(errors.length).toBeGreaterThan(0);
      expect(wait).toEqual({ done: false, failed: false });

      // Act
      log.failing = false;
      await publish(memory, 'a', 2);
      await vi.advanceTimersByTimeAsync(5_000);

      // Assess
      expect(wait).toEqual({ done: true, failed: false });
      expect(await shared.read('a', 0)).toHaveLength(2);
    });

    it('does not spin when the events it reported have expired before being read', async () => {
      // Prepare
      const clock = new ManualClock();
      memory = new MemoryEventLog({ retentionMs: 60_000, clock: clock.read });
      log = new CountingLog(memory);
      const shared = createFeed({ retentionMs: 60_000, clock: clock.read });
      await publish(memory, 'a', 2);
      const signal = controller().signal;
      void shared.waitForNews(at('a', 2), 60_000, signal);
      await vi.advanceTimersByTimeAsync(0); // the poller anchors at head 2
      const positions = at('a', 0);
      await shared.waitForNews(positions, 60_000, signal); // news: at once
      clock.advance(61_000);
      expect(await shared.read('a', 0)).toEqual([]); // but it has expired

      // Act
      const again = track(shared.waitForNews(positions, 60_000, signal));
      await vi.advanceTimersByTimeAsync(0);

      // Assess: paced like a polling feed, not answered at once
      expect(again.done).toBe(false);
      await vi.advanceTimersByTimeAsync(800);
      expect(again.done).toBe(true);
    });
  });

  describe('Method: read', () => {
    it('serves subscribers at the head from the ring, not the log', async () => {
      // Prepare
      const shared = createFeed();
      const waits = Array.from({ length: 20 }, () =>
        shared.waitForNews(at('a', 0), 60_000, controller().signal),
      );
      await vi.advanceTimersByTimeAsync(100);
      await publish(memory, 'a', 3);
      await vi.advanceTimersByTimeAsync(200);
      await Promise.all(waits);
      const before = log.reads.length;

      // Act
      const pages = await Promise.all(Array.from({ length: 20 }, () => shared.read('a', 0)));
      const tail = await shared.read('a', 2);
      const limited = await shared.read('a', 0, { limit: 2 });
      const beyond = await shared.read('a', 3);

      // Assess
      expect(log.reads.length).toBe(before);
      for (const page of pages) expect(page.map((e) => e.position)).toEqual([1, 2, 3]);
      expect(tail.map((e) => e.position)).toEqual([3]);
      expect(limited.map((e) => e.position)).toEqual([1, 2]);
      expect(beyond).toEqual([]);
    });

    it('falls through to the log for a position older than the ring (count bound)', async () => {
      // Prepare
      const shared = createFeed({ ringEvents: 5 });
      const wait = shared.waitForNews(at('a', 0), 60_000, controller().signal);
      await vi.advanceTimersByTimeAsync(100);
      await publish(memory, 'a', 10);
      await vi.advanceTimersByTimeAsync(200);
      await wait;
      const before = log.reads.length;

      // Act
      const inRing = await shared.read('a', 5);
      const backlog = await shared.read('a', 2, { limit: 4 });

      // Assess
      expect(inRing.map((e) => e.position)).toEqual([6, 7, 8, 9, 10]);
      expect(backlog.map((e) => e.position)).toEqual([3, 4, 5, 6]);
      expect(log.reads.slice(before).map((r) => r.after)).toEqual([2]);
    });

    it('bounds the ring by bytes too', async () => {
      // Prepare: each event is 10 bytes of data plus 7 of name
      const shared = createFeed({ ringBytes: 40 });
      const wait = shared.waitForNews(at('a', 0), 60_000, controller().signal);
      await vi.advanceTimersByTimeAsync(100);
      await publish(memory, 'a', 4, 10);
      await vi.advanceTimersByTimeAsync(200);
      await wait;
      const before = log.reads.length;

      // Act
      const inRing = await shared.read('a', 2);
      const older = await shared.read('a', 1);

      // Assess
      expect(inRing.map((e) => e.position)).toEqual([3, 4]);
      expect(older.map((e) => e.position)).toEqual([2, 3, 4]);
      expect(log.reads.length).toBe(before + 1);
    });

    it('reads the log when no poller runs for the channel, or a consistent read is asked', async () => {
      // Prepare
      const shared = createFeed();
      await publish(memory, 'a', 2);

      // Act
      const cold = await shared.read('a', 0);
      const wait = shared.waitForNews(at('a', 2), 1_000, controller().signal);
      await vi.advanceTimersByTimeAsync(100);
      const readsWithPoller = log.reads.length;
      const consistent = await shared.read('a', 2, { consistent: true });

      // Assess
      expect(cold.map((e) => e.position)).toEqual([1, 2]);
      expect(consistent).toEqual([]);
      expect(log.reads.length).toBe(readsWithPoller + 1);
      await vi.advanceTimersByTimeAsync(1_000);
      await wait;
    });

    it('never serves an expired event from the ring', async () => {
      // Prepare
      const clock = new ManualClock();
      memory = new MemoryEventLog({ retentionMs: 60_000, clock: clock.read });
      log = new CountingLog(memory);
      const shared = createFeed({ retentionMs: 60_000, clock: clock.read });
      await publish(memory, 'a', 2);
      const wait = shared.waitForNews(at('a', 2), 60_000, controller().signal);
      await vi.advanceTimersByTimeAsync(100);
      clock.advance(30_000);
      await publish(memory, 'a', 2);
      await vi.advanceTimersByTimeAsync(200);
      await wait;

      // Act
      clock.advance(31_000); // 1..2 expired long ago, 3..4 not yet
      const fresh = await shared.read('a', 2);
      clock.advance(30_000); // now 3..4 have expired too
      const expired = await shared.read('a', 2);

      // Assess
      expect(fresh.map((e) => e.position)).toEqual([3, 4]);
      expect(expired).toEqual([]);
    });
  });

  describe('Method: retained', () => {
    it('passes through to the log', async () => {
      const shared = createFeed();
      await publish(memory, 'a', 4);
      await expect(shared.retained('a')).resolves.toEqual({ first: 1, last: 4 });
      expect(log.retainedCalls).toBe(1);
    });
  });

  describe('Method: close', () => {
    it('stops every poller, resolves every waiter and leaves no timer', async () => {
      // Prepare
      const shared = createFeed();
      const signal = controller().signal;
      const waits = ['a', 'b', 'c'].map((c) => track(shared.waitForNews(at(c, 0), 60_000, signal)));
      await vi.advanceTimersByTimeAsync(250);
      expect(shared.activeChannels).toBe(3);

      // Act
      shared.close();
      await vi.advanceTimersByTimeAsync(0);

      // Assess
      expect(vi.getTimerCount()).toBe(0);
      expect(waits.every((w) => w.done)).toBe(true);
      expect(shared.activeChannels).toBe(0);
      const reads = log.reads.length;
      await vi.advanceTimersByTimeAsync(10_000);
      expect(log.reads.length).toBe(reads);
    });

    it('leaves no timer when closed while a poll is in flight', async () => {
      // Prepare
      let release: () => void = () => {};
      const slow: EventLog = {
        append: (c, e) => memory.append(c, e),
        retained: (c) => memory.retained(c),
        read: async (c, a, o) => {
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          return memory.read(c, a, o);
        },
      };
      feed = new SharedFeed(slow, { interval: { minMs: 100, maxMs: 800 } });
      void feed.waitForNews(at('a', 0), 60_000, controller().signal);
      await vi.advanceTimersByTimeAsync(100); // the first read is now pending

      // Act
      feed.close();
      release();
      await vi.advanceTimersByTimeAsync(0);

      // Assess
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('Idle pollers', () => {
    it('stop once their channel has no waiter and no read for a while', async () => {
      // Prepare
      const shared = createFeed({ idleStopMs: 5_000 });
      const wait = shared.waitForNews(at('a', 0), 1_000, controller().signal);
      await vi.advanceTimersByTimeAsync(1_000);
      await wait;
      expect(shared.activeChannels).toBe(1);

      // Act: reads keep it alive, then nothing does
      for (let i = 0; i < 5; i += 1) {
        await vi.advanceTimersByTimeAsync(2_000);
        await shared.read('a', 0);
      }
      expect(shared.activeChannels).toBe(1);
      await vi.advanceTimersByTimeAsync(6_000);

      // Assess
      expect(shared.activeChannels).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      const reads = log.reads.length;
      await vi.advanceTimersByTimeAsync(10_000);
      expect(log.reads.length).toBe(reads);
    });

    it('restart when a subscriber waits again, and see what happened meanwhile', async () => {
      // Prepare
      const shared = createFeed({ idleStopMs: 1_000 });
      void shared.waitForNews(at('a', 0), 500, controller().signal);
      await vi.advanceTimersByTimeAsync(3_000);
      expect(shared.activeChannels).toBe(0);
      await publish(memory, 'a', 1);

      // Act
      const wait = track(shared.waitForNews(at('a', 0), 60_000, controller().signal));
      await vi.advanceTimersByTimeAsync(0);

      // Assess
      expect(wait.done).toBe(true);
      expect(shared.activeChannels).toBe(1);
    });
  });

  describe('Constructor', () => {
    it('refuses bad bounds', () => {
      expect(() => new SharedFeed(log, { ringEvents: 0 })).toThrow(/ringEvents/);
      expect(() => new SharedFeed(log, { interval: { minMs: 10, maxMs: 5 } })).toThrow(RangeError);
    });
  });
});
