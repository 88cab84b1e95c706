import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import {
  HEADS_PER_READ,
  type HeadReader,
  SafetySweep,
  type SweptFeed,
} from '../../../../functions/core/safety-sweep.js';
import { SharedFeed } from '../../../../functions/core/shared-feed.js';

/** Heads from a map, recording each batch it was asked for. */
class MapHeads implements HeadReader {
  readonly batches: string[][] = [];
  failBatch: number | undefined;
  constructor(readonly store: Map<string, number>) {}
  async heads(channels: readonly string[]): Promise<ReadonlyMap<string, number>> {
    this.batches.push([...channels]);
    if (this.failBatch === this.batches.length) throw new Error('throttled');
    const out = new Map<string, number>();
    for (const c of channels) {
      const head = this.store.get(c);
      if (head !== undefined) out.set(c, head);
    }
    return out;
  }
}

class FakeFeed implements SweptFeed {
  readonly nudges: [string, number][] = [];
  constructor(readonly held: Map<string, number>) {}
  heldChannels() {
    return this.held.entries();
  }
  nudge(channel: string, head: number): void {
    this.nudges.push([channel, head]);
  }
}

describe('Function: SafetySweep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('nudges exactly the channels whose head is past the feed, reading in batches of 100', async () => {
    // Prepare: 250 held channels at position 5; three moved, one was never appended to
    const held = new Map(Array.from({ length: 250 }, (_, i) => [`user/${i}`, 5] as const));
    const store = new Map([...held].map(([c]) => [c, 5]));
    store.set('user/3', 6);
    store.set('user/120', 9);
    store.set('user/249', 7);
    store.delete('user/200');
    const reader = new MapHeads(store);
    const feed = new FakeFeed(held);
    const sweep = new SafetySweep({ reader, feed, intervalMs: 1_000 });

    // Act
    const nudged = await sweep.tick();

    // Assess
    expect(nudged).toBe(3);
    expect(feed.nudges).toEqual([
      ['user/3', 6],
      ['user/120', 9],
      ['user/249', 7],
    ]);
    expect(reader.batches.map((b) => b.length)).toEqual([HEADS_PER_READ, HEADS_PER_READ, 50]);
    expect(new Set(reader.batches.flat()).size).toBe(250);
  });

  it('goes on with the other batches when one fails, and reports it', async () => {
    // Prepare
    const held = new Map(Array.from({ length: 150 }, (_, i) => [`c/${i}`, 0] as const));
    const store = new Map([
      ['c/1', 1],
      ['c/140', 2],
    ]);
    const reader = new MapHeads(store);
    reader.failBatch = 1;
    const errors: unknown[] = [];
    const feed = new FakeFeed(held);
    const sweep = new SafetySweep({
      reader,
      feed,
      intervalMs: 1_000,
      onError: (e) => errors.push(e),
    });

    // Act
    await sweep.tick();

    // Assess: the first batch (c/0…c/99) failed, the second still nudged c/140
    expect(errors).toHaveLength(1);
    expect(feed.nudges).toEqual([['c/140', 2]]);
  });

  it('runs one round per interval from its start, reads nothing with no channel held, and stops', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const held = new Map<string, number>();
    const reader = new MapHeads(new Map([['a', 4]]));
    const feed = new FakeFeed(held);
    const sweep = new SafetySweep({ reader, feed, intervalMs: 120_000 });

    // Act + Assess
    sweep.start();
    await vi.advanceTimersByTimeAsync(119_999);
    expect(reader.batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(reader.batches).toHaveLength(0); // nothing held: no read
    held.set('a', 1);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(reader.batches).toEqual([['a']]);
    expect(feed.nudges).toEqual([['a', 4]]);
    sweep.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(reader.batches).toHaveLength(1);
  });

  it('refuses an interval that is not a positive number', () => {
    const feed = new FakeFeed(new Map());
    const reader = new MapHeads(new Map());
    expect(() => new SafetySweep({ reader, feed, intervalMs: 0 })).toThrow(/intervalMs/);
    expect(() => new SafetySweep({ reader, feed, intervalMs: Number.NaN })).toThrow(/intervalMs/);
  });

  it('brings a SharedFeed an event whose news never came, on its next round, once and in order', async () => {
    // Prepare: a feed whose channels poll themselves only once an hour
    const log = new MemoryEventLog();
    const feed = new SharedFeed(log, { interval: { minMs: 3_600_000, maxMs: 3_600_000 } });
    const reader: HeadReader = {
      heads: async (channels) => {
        const out = new Map<string, number>();
        for (const c of channels) out.set(c, (await log.retained(c)).last);
        return out;
      },
    };
    const sweep = new SafetySweep({ reader, feed, intervalMs: 60_000 });
    await log.append('user/7', [{ event: 'message', data: 'old', dedupeKey: 'o' }]);
    const positions = new Map([['user/7', 1]]);
    const controller = new AbortController();
    // The first wait starts the poller, which anchors at the head (position 1).
    await feed.waitForNews(positions, 10, controller.signal);
    await vi.waitFor(() => expect([...feed.heldChannels()]).toEqual([['user/7', 1]]));
    let woke = false;
    const waiting = feed.waitForNews(positions, 3_600_000, controller.signal).then(() => {
      woke = true;
    });
    await log.append('user/7', [
      { event: 'message', data: 'a', dedupeKey: 'a' },
      { event: 'message', data: 'b', dedupeKey: 'b' },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(woke).toBe(false);

    // Act
    expect(await sweep.tick()).toBe(1);
    await waiting;

    // Assess
    expect(woke).toBe(true);
    expect((await feed.read('user/7', 1)).map((e) => [e.position, e.data])).toEqual([
      [2, 'a'],
      [3, 'b'],
    ]);
    controller.abort();
    feed.close();
  });
});
