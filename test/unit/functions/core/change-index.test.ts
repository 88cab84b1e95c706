import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type ChangeEntry,
  type ChangeReader,
  ChangeWatcher,
} from '../../../../functions/core/change-index.js';

/** An index in memory: entries with their write time. */
class MemoryIndex implements ChangeReader {
  readonly entries: ChangeEntry[] = [];
  readonly asked: number[] = [];
  failNext = false;
  add(channel: string, head: number, key: number): void {
    this.entries.push({ channel, head, key });
  }
  async changesSince(sinceMs: number): Promise<ChangeEntry[]> {
    this.asked.push(sinceMs);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('index unavailable');
    }
    return this.entries.filter((e) => e.key > sinceMs).sort((a, b) => a.key - b.key);
  }
}

describe('Function: ChangeWatcher', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const setup = (lookbackMs = 5_000) => {
    let now = 1_000_000;
    const index = new MemoryIndex();
    const changes: [string, number][] = [];
    const watcher = new ChangeWatcher({
      reader: index,
      onChange: (channel, head) => changes.push([channel, head]),
      lookbackMs,
      clock: () => now,
    });
    return {
      index,
      changes,
      watcher,
      advance: (ms: number) => {
        now += ms;
      },
      now: () => now,
    };
  };

  it('reports each channel that moved once per read, with its newest head', async () => {
    const { index, changes, watcher, now } = setup();
    index.add('a', 3, now() + 1);
    index.add('b', 7, now() + 2);
    index.add('a', 5, now() + 3);

    expect(await watcher.tick()).toBe(true);

    expect(changes).toEqual([
      ['a', 5],
      ['b', 7],
    ]);
  });

  it('does not report an entry again on the next reads (the look-back finds it again)', async () => {
    const { index, changes, watcher, now } = setup();
    index.add('a', 3, now() + 1);
    await watcher.tick();

    expect(await watcher.tick()).toBe(false);
    index.add('a', 4, now() + 5);
    await watcher.tick();

    expect(changes).toEqual([
      ['a', 3],
      ['a', 4],
    ]);
  });

  it('finds an entry written late, with an older key than one already seen, within the look-back', async () => {
    const { index, changes, watcher, now } = setup(5_000);
    index.add('fast', 1, now() + 4_000);
    await watcher.tick();
    // A writer whose clock is 3 s behind writes now, with a key below the newest seen.
    index.add('slow', 9, now() + 1_000);

    await watcher.tick();

    expect(changes).toEqual([
      ['fast', 1],
      ['slow', 9],
    ]);
    // Each read asks from the newest key seen less the look-back.
    expect(index.asked.at(-1)).toBe(now() + 4_000 - 5_000);
  });

  it('starts from its creation: entries older than the look-back are the streams own backlog', async () => {
    const { index, changes, watcher, now } = setup(1_000);
    index.add('old', 2, now() - 60_000);
    await watcher.tick();
    expect(changes).toEqual([]);
  });

  it('polls fast while entries come, backs off when quiet, survives a failed read, and stops', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const index = new MemoryIndex();
    const errors: unknown[] = [];
    let now = 5_000_000;
    const watcher = new ChangeWatcher({
      reader: index,
      onChange: () => undefined,
      interval: { minMs: 100, maxMs: 800 },
      clock: () => now,
      onError: (error) => errors.push(error),
    });
    watcher.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(watcher.reads).toBe(1);
    // Quiet: 100, 200, 400, 800, 800 ms apart.
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 800 + 800);
    expect(watcher.reads).toBe(6);
    index.add('a', 1, now + 1);
    now += 10;
    await vi.advanceTimersByTimeAsync(800);
    expect(watcher.reads).toBe(7);
    // News: the next read comes after the minimum again.
    await vi.advanceTimersByTimeAsync(100);
    expect(watcher.reads).toBe(8);

    index.failNext = true;
    await vi.advanceTimersByTimeAsync(200);
    expect(errors).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(800);
    expect(watcher.reads).toBe(10);

    watcher.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(watcher.reads).toBe(10);
  });

  it('reads nothing while no channel is held, then reads from just before it resumed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const index = new MemoryIndex();
    let now = 7_000_000;
    let held = false;
    const changes: [string, number][] = [];
    const watcher = new ChangeWatcher({
      reader: index,
      onChange: (channel, head) => changes.push([channel, head]),
      interval: { minMs: 100, maxMs: 400 },
      lookbackMs: 1_000,
      clock: () => now,
      active: () => held,
    });
    watcher.start();
    // An hour with nobody to tell: no read at all.
    for (let i = 0; i < 9_000; i++) {
      now += 400;
      await vi.advanceTimersByTimeAsync(400);
    }
    expect(watcher.reads).toBe(0);
    expect(index.asked).toEqual([]);

    // A channel is taken up and moves: the next read finds it, and reaches back no
    // further than the look-back before the last idle check (not an hour).
    held = true;
    index.add('user/1', 3, now + 5);
    now += 10;
    await vi.advanceTimersByTimeAsync(400);
    expect(watcher.reads).toBeGreaterThanOrEqual(1);
    expect(changes).toEqual([['user/1', 3]]);
    expect(now - (index.asked[0] ?? 0)).toBeLessThanOrEqual(1_000 + 400 + 10);
    watcher.stop();
  });
});
