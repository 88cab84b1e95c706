import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../../../functions/core/cursor.js';
import type { EventFeed } from '../../../../functions/core/event-feed.js';
import type { StoredEvent } from '../../../../functions/core/event-log.js';
import { runStreamSession } from '../../../../functions/core/stream-session.js';

// Streams of one channel fed the same event objects (as a SharedFeed's ring hands them
// out) encode each event once between them, and send exactly the bytes they would have
// encoded themselves.

/** Events whose `data` counts how often it is read: once per encoding. */
function countedEvents(channel: string, datas: readonly string[]) {
  let dataReads = 0;
  const events: StoredEvent[] = datas.map((data, i) => ({
    channel,
    position: i + 1,
    event: i === 1 ? 'update' : 'message',
    time: Date.UTC(2026, 0, 1) + i,
    get data() {
      dataReads += 1;
      return data;
    },
  }));
  return { events, dataReads: () => dataReads };
}

/** A feed over fixed events per channel that ends every wait at once. */
function fixedFeed(byChannel: Record<string, StoredEvent[]>): EventFeed {
  return {
    read: async (channel, after) => (byChannel[channel] ?? []).filter((e) => e.position > after),
    retained: async (channel) => ({ first: 1, last: byChannel[channel]?.length ?? 0 }),
    // Idle until the stream's signal ends it.
    waitForNews: (_positions, _timeout, signal) =>
      new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
  };
}

async function stream(feed: EventFeed, channels: string[], envelope = false) {
  const chunks: string[] = [];
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), 150);
  const summary = await runStreamSession(
    {
      channels,
      resume: { kind: 'earliest' },
      envelope,
      retryMs: 1000,
      heartbeatMs: 15_000,
      stopAt: Date.now() + 60_000,
      byteBudget: 10_000,
      pageSize: 100,
      paddingBytes: 0,
    },
    {
      feed,
      clock: Date.now,
      write: (c) => void chunks.push(c),
      signal: stop.signal,
    },
  );
  clearTimeout(timer);
  return { chunks, summary };
}

function parse(chunks: readonly string[]): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  parser.feed(chunks.join(''));
  return events;
}

describe('Function: runStreamSession, frames shared by one-channel streams', () => {
  it('encodes an event once for every stream of its channel, each getting the same bytes and counting them', async () => {
    const { events, dataReads } = countedEvents('room', ['a', 'b', 'c']);
    const feed = fixedFeed({ room: events });

    const runs = await Promise.all(
      Array.from({ length: 5 }, () =>
        runStreamSession(
          {
            channels: ['room'],
            resume: { kind: 'earliest' },
            envelope: false,
            retryMs: 1000,
            heartbeatMs: 15_000,
            stopAt: Date.now() + 60_000,
            byteBudget: 10_000,
            pageSize: 100,
            paddingBytes: 0,
          },
          {
            feed: {
              ...feed,
              waitForNews: (_p, _t, s) =>
                new Promise((r) => s.addEventListener('abort', () => r())),
            },
            clock: Date.now,
            write: () => undefined,
            signal: AbortSignal.timeout(200),
          },
        ),
      ),
    );

    expect(dataReads()).toBe(3);
    for (const summary of runs) expect(summary).toMatchObject({ events: 3, reason: 'aborted' });
    expect(new Set(runs.map((r) => r.bytes)).size).toBe(1);
  });

  it('sends ids and frames identical to a fresh encoding: plain, named and enveloped', async () => {
    const { events } = countedEvents('room', ['a', 'b\nsecond line']);
    const feed = fixedFeed({ room: events });
    const plain = parse((await stream(feed, ['room'])).chunks).slice(1);
    const enveloped = parse((await stream(feed, ['room'], true)).chunks).slice(1);

    expect(plain.map((e) => [e.id, e.event, e.data])).toEqual([
      [encodeCursor(new Map([['room', 1]])), undefined, 'a'],
      [encodeCursor(new Map([['room', 2]])), 'update', 'b\nsecond line'],
    ]);
    expect(enveloped.map((e) => [e.event, JSON.parse(e.data)])).toEqual([
      [
        undefined,
        {
          id: enveloped[0]?.id,
          channel: 'room',
          event: 'message',
          data: 'a',
          time: expect.any(String),
        },
      ],
      [
        undefined,
        {
          id: enveloped[1]?.id,
          channel: 'room',
          event: 'update',
          data: 'b\nsecond line',
          time: expect.any(String),
        },
      ],
    ]);
    expect(enveloped.map((e) => e.id)).toEqual(plain.map((e) => e.id));
  });

  it('gives a multi-channel stream its own combined cursor, not a one-channel frame', async () => {
    const room = countedEvents('room', ['r1']).events;
    const hall = countedEvents('hall', ['h1']).events;
    const feed = fixedFeed({ room, hall });
    await stream(feed, ['room']); // caches room's frame

    const both = parse((await stream(feed, ['room', 'hall'])).chunks).slice(1);

    expect(both[0]?.id).toBe(
      encodeCursor(
        new Map([
          ['room', 1],
          ['hall', 0],
        ]),
      ),
    );
  });
});
