import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeCursor, encodeCursor, type ResumePoint } from '../../../../functions/core/cursor.js';
import type {
  EventLog,
  NewEvent,
  ReadOptions,
  StoredEvent,
} from '../../../../functions/core/event-log.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import { PollingFeed } from '../../../../functions/core/polling-feed.js';
import {
  runStreamSession,
  type StreamSessionOptions,
  type StreamSummary,
} from '../../../../functions/core/stream-session.js';

/** Counts reads so tests can see what an idle stream costs. */
class CountingLog implements EventLog {
  reads = 0;
  constructor(readonly inner: EventLog) {}
  append(channel: string, events: readonly NewEvent[]) {
    return this.inner.append(channel, events);
  }
  read(channel: string, after: number, options?: ReadOptions): Promise<StoredEvent[]> {
    this.reads += 1;
    return this.inner.read(channel, after, options);
  }
  retained(channel: string) {
    return this.inner.retained(channel);
  }
}

interface Harness {
  chunks: string[];
  events: () => EventSourceMessage[];
  comments: () => string[];
  retry: () => number | undefined;
  done: Promise<StreamSummary>;
  abort: AbortController;
  /** The server-wide shutdown signal (SIGTERM on a Web Function). */
  shutdown: AbortController;
}

const HOUR = 3_600_000;

describe('Function: runStreamSession', () => {
  let log: CountingLog;
  const channel = 'orders';

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(Date.UTC(2026, 0, 1));
    log = new CountingLog(new MemoryEventLog({ retentionMs: HOUR }));
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  const publish = (data: string, event = 'message', ch = channel) =>
    log.append(ch, [{ event, data, dedupeKey: `${ch}:${data}` }]);

  function start(
    overrides: Partial<StreamSessionOptions> & { resume: ResumePoint },
    write?: (chunk: string) => Promise<void> | undefined,
    store: EventLog = log,
  ): Harness {
    const options: StreamSessionOptions = {
      channels: [channel],
      envelope: false,
      retryMs: 1000,
      heartbeatMs: 15_000,
      stopAt: Date.now() + 300_000,
      byteBudget: 1_000_000,
      pageSize: 100,
      paddingBytes: 0,
      ...overrides,
    };
    const chunks: string[] = [];
    const abort = new AbortController();
    const shutdown = new AbortController();
    const done = runStreamSession(options, {
      feed: new PollingFeed(store, { minMs: 200, maxMs: 1000 }),
      clock: Date.now,
      write: (chunk) => {
        chunks.push(chunk);
        return write?.(chunk);
      },
      signal: abort.signal,
      shutdown: shutdown.signal,
    });
    const parse = () => {
      const events: EventSourceMessage[] = [];
      const comments: string[] = [];
      let retry: number | undefined;
      const parser = createParser({
        onEvent: (e) => events.push(e),
        onComment: (c) => comments.push(c),
        onRetry: (r) => {
          retry = r;
        },
      });
      parser.feed(chunks.join(''));
      return { events, comments, retry };
    };
    return {
      chunks,
      events: () => parse().events,
      comments: () => parse().comments,
      retry: () => parse().retry,
      done,
      abort,
      shutdown,
    };
  }

  it('starts with a stream.open event carrying retry and the starting cursor', async () => {
    await publish('before');
    const stream = start({ resume: { kind: 'latest' } });
    await vi.advanceTimersByTimeAsync(0);

    // `retry:` rides in a block with data: a block without data is an empty message to
    // fetch-event-source and httpx-sse.
    expect(stream.chunks[0]).toMatch(/^event: stream\.open\nretry: 1000\ndata: .+\nid: .+\n\n$/);
    const [open] = stream.events();
    expect(open?.event).toBe('stream.open');
    expect(JSON.parse(open?.data ?? '')).toEqual({ channels: [channel] });
    expect(decodeCursor(open?.id ?? '')).toEqual(new Map([[channel, 1]]));
    stream.abort.abort();
    await stream.done;
  });

  it('replays from a cursor, then delivers live events as they are appended', async () => {
    for (const d of ['e1', 'e2', 'e3']) await publish(d);
    const stream = start({ resume: { kind: 'cursor', positions: new Map([[channel, 1]]) } });
    await vi.advanceTimersByTimeAsync(0);
    const [open, ...replayed] = stream.events();
    expect(replayed.map((e) => e.data)).toEqual(['e2', 'e3']);

    await publish('live', 'order.updated');
    await vi.advanceTimersByTimeAsync(200);
    const events = stream.events().slice(1);
    expect(events.map((e) => [e.event, e.data])).toEqual([
      [undefined, 'e2'],
      [undefined, 'e3'],
      ['order.updated', 'live'],
    ]);
    expect(events.map((e) => decodeCursor(e.id ?? '').get(channel))).toEqual([2, 3, 4]);
    // A resumed stream opens too, at the cursor it resumed from.
    expect(open?.event).toBe('stream.open');
    expect(decodeCursor(open?.id ?? '')).toEqual(new Map([[channel, 1]]));
    stream.abort.abort();
    expect((await stream.done).reason).toBe('aborted');
  });

  it('wraps events in the JSON envelope when asked', async () => {
    await publish('{"a":1}', 'created');
    const stream = start({ resume: { kind: 'earliest' }, envelope: true });
    await vi.advanceTimersByTimeAsync(0);
    const [open, event] = stream.events();
    expect(open?.event).toBe('stream.open');
    expect(event?.event).toBeUndefined();
    expect(JSON.parse(event?.data ?? '')).toEqual({
      id: event?.id,
      channel,
      event: 'created',
      data: '{"a":1}',
      time: '2026-01-01T00:00:00.000Z',
    });
    stream.abort.abort();
    await stream.done;
  });

  it('ends at its stop time, after a complete event, and resuming from its last id loses nothing', async () => {
    const stream = start({ resume: { kind: 'earliest' }, stopAt: Date.now() + 5_000 });
    for (let i = 1; i <= 10; i++) {
      await publish(`e${i}`);
      await vi.advanceTimersByTimeAsync(1_000);
    }
    const summary = await stream.done;
    expect(summary.reason).toBe('lifetime');
    expect(stream.chunks.join('').endsWith('\n\n')).toBe(true);
    const got = stream.events().filter((e) => e.event === undefined);
    expect(got.length).toBeGreaterThan(2);
    expect(got.length).toBeLessThan(10);

    const last = got.at(-1)?.id ?? '';
    const resumed = start({ resume: { kind: 'cursor', positions: decodeCursor(last) } });
    await vi.advanceTimersByTimeAsync(0);
    const rest = resumed
      .events()
      .filter((e) => e.event === undefined)
      .map((e) => e.data);
    expect([...got.map((e) => e.data), ...rest]).toEqual(
      Array.from({ length: 10 }, (_, i) => `e${i + 1}`),
    );
    resumed.abort.abort();
    await resumed.done;
  });

  it('ends after the event that crosses the byte budget, never inside one', async () => {
    for (let i = 1; i <= 20; i++) await publish(`${i}:${'x'.repeat(100)}`);
    const stream = start({ resume: { kind: 'earliest' }, byteBudget: 1_000 });
    const summary = await stream.done;
    expect(summary.reason).toBe('budget');
    expect(summary.bytes).toBeGreaterThanOrEqual(1_000);
    const delivered = stream.events().filter((e) => e.event === undefined);
    expect(delivered.length).toBe(summary.events);
    expect(delivered.length).toBeLessThan(20);
    // The budget is crossed by the last event, not by one before it.
    const withoutLast = stream.chunks.slice(0, -1).join('');
    expect(new TextEncoder().encode(withoutLast).byteLength).toBeLessThan(1_000);
  });

  it('pages through a backlog larger than one read', async () => {
    for (let i = 1; i <= 25; i++) await publish(`e${i}`);
    const stream = start({ resume: { kind: 'earliest' }, pageSize: 10 });
    await vi.advanceTimersByTimeAsync(0);
    expect(
      stream
        .events()
        .filter((e) => e.event === undefined)
        .map((e) => e.data),
    ).toEqual(Array.from({ length: 25 }, (_, i) => `e${i + 1}`));
    stream.abort.abort();
    await stream.done;
  });

  it('sends a heartbeat comment when nothing else was written for the heartbeat interval', async () => {
    const stream = start({ resume: { kind: 'latest' }, heartbeatMs: 15_000 });
    await vi.advanceTimersByTimeAsync(14_000);
    expect(stream.comments()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(stream.comments()).toEqual(['']);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(stream.comments()).toEqual(['', '']);
    stream.abort.abort();
    await stream.done;
  });

  it('backs off to one read per maximum poll interval while idle', async () => {
    const stream = start({ resume: { kind: 'latest' } });
    await vi.advanceTimersByTimeAsync(10_000);
    const before = log.reads;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(log.reads - before).toBeGreaterThanOrEqual(59);
    expect(log.reads - before).toBeLessThanOrEqual(61);
    stream.abort.abort();
    await stream.done;
  });

  it('leaves no timer behind when aborted while idle', async () => {
    const stream = start({ resume: { kind: 'latest' } });
    await vi.advanceTimersByTimeAsync(3_000);
    stream.abort.abort();
    expect((await stream.done).reason).toBe('aborted');
    expect(vi.getTimerCount()).toBe(0);
  });

  /** A client that takes the first `accepted` writes, then never drains again. */
  const stopsReadingAfter = (accepted: number) => {
    let writes = 0;
    return (): Promise<void> | undefined => {
      writes += 1;
      return writes > accepted ? new Promise<void>(() => undefined) : undefined;
    };
  };

  it('ends stalled at its stop time when a write never drains, and leaves no timer', async () => {
    for (let i = 1; i <= 5; i++) await publish(`e${i}`);
    // stream.open drains after 30 s (slow, but in time), e1 never.
    const never = stopsReadingAfter(0);
    let writes = 0;
    const stream = start({ resume: { kind: 'earliest' }, stopAt: Date.now() + 60_000 }, () => {
      writes += 1;
      if (writes === 1) return new Promise<void>((resolve) => setTimeout(resolve, 30_000));
      return never();
    });
    let summary: StreamSummary | undefined;
    void stream.done.then((s) => {
      summary = s;
    });
    await vi.advanceTimersByTimeAsync(59_000);
    expect(summary).toBeUndefined();

    await vi.advanceTimersByTimeAsync(1_000);
    expect(summary).toEqual({
      events: 0,
      bytes: new TextEncoder().encode(stream.chunks.join('')).byteLength,
      resets: 0,
      // From earliest with 5 events stored.
      startLag: 5,
      reason: 'stalled',
    });
    // The event whose write stalled is not counted: the client may hold only part of it,
    // and it comes again after the reconnect from the last complete id.
    expect(stream.chunks.at(-1)).toContain('data: e1');
    expect(stream.chunks.filter((c) => c.includes('data: e'))).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends on time, after complete events, when a read is pending at its stop time', async () => {
    await publish('e1');
    // The store answers the start-up reads and the first page, then never again (the AWS
    // call limits would end such a read, but possibly past the stop time).
    let reads = 0;
    const stalling: EventLog = {
      append: (ch, events) => log.append(ch, events),
      retained: (ch) => log.retained(ch),
      read: (ch, after, options) => {
        reads += 1;
        return reads > 1
          ? new Promise<StoredEvent[]>(() => undefined)
          : log.read(ch, after, options);
      },
    };
    const stream = start(
      { resume: { kind: 'earliest' }, stopAt: Date.now() + 60_000 },
      undefined,
      stalling,
    );
    let summary: StreamSummary | undefined;
    void stream.done.then((s) => {
      summary = s;
    });
    await vi.advanceTimersByTimeAsync(59_000);
    expect(reads).toBeGreaterThan(1);
    expect(summary).toBeUndefined();

    await vi.advanceTimersByTimeAsync(1_000);
    expect(summary).toMatchObject({ events: 1, reason: 'lifetime' });
    expect(stream.events().map((e) => e.data)).toEqual([
      JSON.stringify({ channels: [channel] }),
      'e1',
    ]);
    expect(stream.chunks.join('').endsWith('\n\n')).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends stalled at its stop time when the heartbeat does not drain', async () => {
    const stream = start(
      { resume: { kind: 'latest' }, heartbeatMs: 15_000, stopAt: Date.now() + 20_000 },
      stopsReadingAfter(1),
    );
    await vi.advanceTimersByTimeAsync(20_000);
    expect((await stream.done).reason).toBe('stalled');
    expect(stream.comments()).toEqual(['']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends aborted while a write waits for drain, and leaves no timer', async () => {
    const stream = start({ resume: { kind: 'latest' } }, stopsReadingAfter(1));
    await vi.advanceTimersByTimeAsync(1_000);
    stream.abort.abort();
    expect((await stream.done).reason).toBe('aborted');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends with reason shutdown when the server shuts down, after its last complete event', async () => {
    await publish('e1');
    const stream = start({ resume: { kind: 'earliest' } });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(stream.events().map((e) => e.data)).toContain('e1');
    stream.shutdown.abort();
    const summary = await stream.done;
    expect(summary).toMatchObject({ events: 1, reason: 'shutdown' });
    expect(stream.chunks.join('').endsWith('\n\n')).toBe(true);
    // Nothing keeps the process up after the drain: no poll or heartbeat timer is left.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends with reason shutdown while a write waits for drain', async () => {
    const stream = start({ resume: { kind: 'latest' } }, stopsReadingAfter(0));
    await vi.advanceTimersByTimeAsync(1_000);
    stream.shutdown.abort();
    expect((await stream.done).reason).toBe('shutdown');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('says aborted, not shutdown, when the client went away first', async () => {
    const stream = start({ resume: { kind: 'latest' } });
    await vi.advanceTimersByTimeAsync(1_000);
    stream.abort.abort();
    stream.shutdown.abort();
    expect((await stream.done).reason).toBe('aborted');
  });

  it('sends padding before anything else when configured', async () => {
    const stream = start({ resume: { kind: 'latest' }, paddingBytes: 2048 });
    await vi.advanceTimersByTimeAsync(0);
    const first = stream.chunks[0] ?? '';
    expect(first.startsWith(':')).toBe(true);
    expect(new TextEncoder().encode(first).byteLength).toBe(2048);
    expect(stream.chunks[1]).toMatch(/^event: stream\.open\nretry: 1000\n/);
    stream.abort.abort();
    await stream.done;
  });

  it('resets an expired cursor once, then goes on from the oldest retained event', async () => {
    await publish('old1');
    await publish('old2');
    vi.advanceTimersByTime(HOUR / 2);
    await publish('new1');
    vi.advanceTimersByTime(HOUR / 2);
    const stream = start({ resume: { kind: 'cursor', positions: new Map([[channel, 0]]) } });
    await vi.advanceTimersByTimeAsync(0);
    const events = stream.events();
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['stream.open', JSON.stringify({ channels: [channel] })],
      ['stream.reset', JSON.stringify({ channel, reason: 'expired', missed: 2 })],
      [undefined, 'new1'],
    ]);
    stream.abort.abort();
    expect((await stream.done).resets).toBe(1);
  });

  it('resets a cursor ahead of the log and delivers what comes next', async () => {
    await publish('e1');
    const stream = start({ resume: { kind: 'cursor', positions: new Map([[channel, 9]]) } });
    await vi.advanceTimersByTimeAsync(0);
    await publish('e2');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stream.events().map((e) => [e.event, e.data])).toEqual([
      ['stream.open', JSON.stringify({ channels: [channel] })],
      ['stream.reset', JSON.stringify({ channel, reason: 'ahead' })],
      [undefined, 'e2'],
    ]);
    stream.abort.abort();
    await stream.done;
  });

  it('reports events that expire while the stream lags behind them', async () => {
    for (let i = 1; i <= 3; i++) await publish(`e${i}`);
    const cursor = new Map([[channel, 0]]);
    // The range check passes, but by the first read the first two events have expired.
    const feed = new PollingFeed(log);
    const reads: number[] = [];
    const lagging = {
      ...feed,
      retained: (c: string) => log.retained(c),
      waitForNews: feed.waitForNews.bind(feed),
      read: async (c: string, after: number, o?: ReadOptions) => {
        reads.push(after);
        const page = await log.read(c, after, o);
        return reads.length === 1 ? page.slice(2) : page;
      },
    };
    const chunks: string[] = [];
    const abort = new AbortController();
    const done = runStreamSession(
      {
        channels: [channel],
        resume: { kind: 'cursor', positions: cursor },
        envelope: false,
        retryMs: 0,
        heartbeatMs: 15_000,
        stopAt: Date.now() + 60_000,
        byteBudget: 1e6,
        pageSize: 100,
        paddingBytes: 0,
      },
      { feed: lagging, clock: Date.now, write: (c) => void chunks.push(c), signal: abort.signal },
    );
    await vi.advanceTimersByTimeAsync(0);
    abort.abort();
    await done;
    const body = chunks.join('');
    expect(body).toContain(`data: ${JSON.stringify({ channel, reason: 'expired', missed: 2 })}`);
    expect(body).toContain('data: e3');
    expect(body).not.toContain('data: e1');
  });

  it('carries every channel position in each id of a multi-channel stream', async () => {
    await publish('a1', 'message', 'a');
    await publish('b1', 'message', 'b');
    await publish('b2', 'message', 'b');
    const stream = start({ channels: ['a', 'b'], resume: { kind: 'earliest' }, envelope: true });
    await vi.advanceTimersByTimeAsync(0);
    const events = stream.events().filter((e) => e.event === undefined);
    expect(events.map((e) => JSON.parse(e.data).data)).toEqual(['a1', 'b1', 'b2']);
    expect(decodeCursor(events.at(-1)?.id ?? '')).toEqual(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    expect(events[0]?.id).toBe(
      encodeCursor(
        new Map([
          ['a', 1],
          ['b', 0],
        ]),
      ),
    );
    stream.abort.abort();
    await stream.done;
  });

  it('reports how far behind the heads it started: 0 from latest, the backlog from earliest or a cursor', async () => {
    for (let i = 1; i <= 5; i++) await publish(`e${i}`);
    const summaryOf = async (resume: ResumePoint) => {
      const stream = start({ resume, stopAt: Date.now() + 1_000 });
      await vi.advanceTimersByTimeAsync(2_000);
      return stream.done;
    };

    expect((await summaryOf({ kind: 'latest' })).startLag).toBe(0);
    expect((await summaryOf({ kind: 'earliest' })).startLag).toBe(5);
    expect((await summaryOf({ kind: 'cursor', positions: new Map([[channel, 2]]) })).startLag).toBe(
      3,
    );
  });
});
