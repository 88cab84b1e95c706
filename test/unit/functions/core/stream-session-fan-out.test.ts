import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  encodeCursor,
  type Positions,
  type ResumePoint,
} from '../../../../functions/core/cursor.js';
import { envelopeOf } from '../../../../functions/core/envelope.js';
import type { EventFeed } from '../../../../functions/core/event-feed.js';
import type { StoredEvent } from '../../../../functions/core/event-log.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import { SharedFeed } from '../../../../functions/core/shared-feed.js';
import * as sse from '../../../../functions/core/sse-encoder.js';
import {
  OPEN_EVENT,
  RESET_EVENT,
  runStreamSession,
  type StreamSummary,
} from '../../../../functions/core/stream-session.js';

// Streams of one channel over a SharedFeed share each event's encoded frame. These tests
// hold the shared frames to the bytes each stream would have encoded for itself (the
// `reference*` helpers below are that per-stream encoding, written out independently),
// and count the encoder's calls to show the sharing happens.

vi.mock('../../../../functions/core/sse-encoder.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../../functions/core/sse-encoder.js')>();
  return { ...actual, encodeEvent: vi.fn(actual.encodeEvent) };
});
const encodeEvent = vi.mocked(sse.encodeEvent);

const RETRY_MS = 1000;

/** The frame of one event for a stream whose cursor after it is `positions`. */
function referenceFrame(event: StoredEvent, positions: Positions, envelope: boolean): string {
  const id = encodeCursor(positions);
  return sse.encodeEvent({
    id,
    event: envelope || event.event === 'message' ? undefined : event.event,
    data: envelope ? JSON.stringify(envelopeOf(event, id)) : event.data,
  });
}

function referenceOpen(channels: readonly string[], positions: Positions): string {
  return sse.encodeEvent({
    id: encodeCursor(positions),
    event: OPEN_EVENT,
    retry: RETRY_MS,
    data: JSON.stringify({ channels }),
  });
}

/** Every chunk a stream of `channels` sends for `events` (read in channel order), from `start`. */
function referenceStream(
  channels: readonly string[],
  start: Positions,
  events: readonly StoredEvent[],
  envelope: boolean,
): string[] {
  const positions = new Map(start);
  const chunks = [referenceOpen(channels, positions)];
  for (const event of events) {
    positions.set(event.channel, event.position);
    chunks.push(referenceFrame(event, positions, envelope));
  }
  return chunks;
}

interface Run {
  readonly chunks: string[];
  readonly done: Promise<StreamSummary>;
  readonly stop: () => void;
}

function open(
  feed: EventFeed,
  channels: readonly string[],
  options: { envelope?: boolean; resume?: ResumePoint; byteBudget?: number } = {},
): Run {
  const chunks: string[] = [];
  const controller = new AbortController();
  const done = runStreamSession(
    {
      channels,
      resume: options.resume ?? { kind: 'earliest' },
      envelope: options.envelope ?? false,
      retryMs: RETRY_MS,
      heartbeatMs: 60_000,
      stopAt: Date.now() + 60_000,
      byteBudget: options.byteBudget ?? 1_000_000,
      pageSize: 100,
      paddingBytes: 0,
    },
    {
      feed,
      clock: Date.now,
      write: (chunk) => void chunks.push(chunk),
      signal: controller.signal,
    },
  );
  return { chunks, done, stop: () => controller.abort() };
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Non-ASCII, a line break and a named event, so text and byte counts differ. */
const PAYLOADS = [
  { event: 'message', data: 'plain' },
  { event: 'price', data: 'ünïcødé 🚀' },
  { event: 'message', data: 'two\r\nlines\rand\nthree' },
  { event: 'update', data: '{"a":1}' },
];

async function append(log: MemoryEventLog, channel: string, from: number, to: number) {
  await log.append(
    channel,
    PAYLOADS.slice(from, to).map((p, i) => ({ ...p, dedupeKey: `${channel}-${from + i}` })),
  );
}

const feeds: SharedFeed[] = [];
function sharedFeed(log: MemoryEventLog): SharedFeed {
  const feed = new SharedFeed(log, { interval: { minMs: 5, maxMs: 20 } });
  feeds.push(feed);
  return feed;
}

afterEach(() => {
  for (const feed of feeds.splice(0)) feed.close();
  encodeEvent.mockClear();
});

describe('Function: runStreamSession, fan-out over a SharedFeed', () => {
  it('sends every stream exactly the bytes it would have encoded itself: plain, enveloped, multi-channel, backlog and live', async () => {
    const log = new MemoryEventLog();
    await append(log, 'room', 0, 2);
    await append(log, 'hall', 0, 1);
    const feed = sharedFeed(log);

    const plain = [open(feed, ['room']), open(feed, ['room'])];
    const enveloped = [
      open(feed, ['room'], { envelope: true }),
      open(feed, ['room'], { envelope: true }),
    ];
    const multi = open(feed, ['room', 'hall']);
    const multiEnveloped = open(feed, ['hall', 'room'], { envelope: true });
    const runs = [...plain, ...enveloped, multi, multiEnveloped];
    // Backlog delivered, then live events.
    await until(() => runs.every((r) => r.chunks.length >= 3));
    await append(log, 'room', 2, 4);
    await append(log, 'hall', 1, 2);
    feed.nudge('room');
    feed.nudge('hall');
    await until(() => plain.every((r) => r.chunks.length === 5));
    await until(() => multi.chunks.length === 7 && multiEnveloped.chunks.length === 7);
    for (const run of runs) run.stop();
    const summaries = await Promise.all(runs.map((r) => r.done));

    const room = await log.read('room', 0);
    const hall = await log.read('hall', 0);
    const fromStart = (channels: string[]) => new Map(channels.map((c) => [c, 0]));
    for (const run of plain) {
      expect(run.chunks).toEqual(referenceStream(['room'], fromStart(['room']), room, false));
    }
    for (const run of enveloped) {
      expect(run.chunks).toEqual(referenceStream(['room'], fromStart(['room']), room, true));
    }
    // A multi-channel stream reads each channel in its order per wake-up; its ids hold
    // both channels' positions, never a one-channel cursor.
    const [r1, r2, r3, r4] = room;
    const [h1, h2] = hall;
    if (!r1 || !r2 || !r3 || !r4 || !h1 || !h2) throw new Error('log is short');
    expect(multi.chunks).toEqual(
      referenceStream(
        ['room', 'hall'],
        fromStart(['room', 'hall']),
        [r1, r2, h1, r3, r4, h2],
        false,
      ),
    );
    expect(multiEnveloped.chunks).toEqual(
      referenceStream(
        ['hall', 'room'],
        fromStart(['hall', 'room']),
        [h1, r1, r2, h2, r3, r4],
        true,
      ),
    );

    // Byte counts are the UTF-8 length of what was sent, shared frame or not.
    for (const [i, run] of runs.entries()) {
      const sent = run.chunks.join('');
      expect(summaries[i]).toMatchObject({
        events: run.chunks.length - 1,
        bytes: new TextEncoder().encode(sent).byteLength,
        reason: 'aborted',
      });
    }
  });

  it('encodes an event once for all one-channel streams of a form, and once per multi-channel stream', async () => {
    const log = new MemoryEventLog();
    await append(log, 'room', 0, 4);
    await append(log, 'hall', 0, 1);
    const feed = sharedFeed(log);
    encodeEvent.mockClear();

    const plain = Array.from({ length: 20 }, () => open(feed, ['room']));
    const enveloped = Array.from({ length: 10 }, () => open(feed, ['room'], { envelope: true }));
    const multi = Array.from({ length: 3 }, () => open(feed, ['room', 'hall']));
    const runs = [...plain, ...enveloped, ...multi];
    await until(() => [...plain, ...enveloped].every((r) => r.chunks.length === 5));
    await until(() => multi.every((r) => r.chunks.length === 6));
    for (const run of runs) run.stop();
    await Promise.all(runs.map((r) => r.done));

    const opens = runs.length;
    const sharedPlain = 4;
    const sharedEnveloped = 4;
    const perMulti = 5 * multi.length;
    expect(encodeEvent).toHaveBeenCalledTimes(opens + sharedPlain + sharedEnveloped + perMulti);
    // Every one-channel stream of a form sent the very same strings.
    for (const run of plain) expect(run.chunks.slice(1)).toEqual(plain[0]?.chunks.slice(1));
    for (const run of enveloped) expect(run.chunks.slice(1)).toEqual(enveloped[0]?.chunks.slice(1));
    expect(plain[0]?.chunks[1]).not.toBe(enveloped[0]?.chunks[1]);
  });

  it('gives a stream that resumes from a cursor the ids and frames a fresh encoding gives, and shares them with a stream from the start', async () => {
    const log = new MemoryEventLog();
    await append(log, 'room', 0, 4);
    const feed = sharedFeed(log);
    const room = await log.read('room', 0);

    const fromStart = open(feed, ['room']);
    await until(() => fromStart.chunks.length === 5);
    // A cursor naming other channels too: a one-channel stream's ids hold only its own.
    const cursor = new Map([
      ['room', 1],
      ['elsewhere', 9],
    ]);
    const resumed = open(feed, ['room'], { resume: { kind: 'cursor', positions: cursor } });
    const resumedEnveloped = open(feed, ['room'], {
      envelope: true,
      resume: { kind: 'cursor', positions: cursor },
    });
    await until(() => resumed.chunks.length === 4 && resumedEnveloped.chunks.length === 4);
    for (const run of [fromStart, resumed, resumedEnveloped]) run.stop();
    await Promise.all([fromStart.done, resumed.done, resumedEnveloped.done]);

    const after1 = new Map([['room', 1]]);
    expect(resumed.chunks).toEqual(referenceStream(['room'], after1, room.slice(1), false));
    expect(resumedEnveloped.chunks).toEqual(referenceStream(['room'], after1, room.slice(1), true));
    expect(resumed.chunks.slice(1)).toEqual(fromStart.chunks.slice(2));
    expect(resumed.chunks[1]).toContain(`id: ${encodeCursor(new Map([['room', 2]]))}\n`);
  });

  it('keeps resets and the events after them exact on a one-channel stream', async () => {
    // The feed lost positions 1 and 2 (expired between reads): a reset, then frames.
    const events: StoredEvent[] = [3, 4].map((position) => ({
      channel: 'room',
      position,
      event: 'message',
      data: `e${position}`,
      time: Date.UTC(2026, 0, 1) + position,
    }));
    const feed: EventFeed = {
      read: async (_channel, after) => events.filter((e) => e.position > after),
      retained: async () => ({ first: 1, last: 4 }),
      waitForNews: (_positions, _timeout, signal) =>
        new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
    };
    const runs = [open(feed, ['room']), open(feed, ['room'])];
    await until(() => runs.every((r) => r.chunks.length === 4));
    for (const run of runs) run.stop();
    const summaries = await Promise.all(runs.map((r) => r.done));

    const expected = [
      referenceOpen(['room'], new Map([['room', 0]])),
      sse.encodeEvent({
        id: encodeCursor(new Map([['room', 2]])),
        event: RESET_EVENT,
        data: JSON.stringify({ channel: 'room', reason: 'expired', missed: 2 }),
      }),
      referenceFrame(events[0] as StoredEvent, new Map([['room', 3]]), false),
      referenceFrame(events[1] as StoredEvent, new Map([['room', 4]]), false),
    ];
    for (const [i, run] of runs.entries()) {
      expect(run.chunks).toEqual(expected);
      expect(summaries[i]).toMatchObject({ events: 2, resets: 1 });
    }
  });

  it('ends at the byte budget after the same event whether its frame was shared or not', async () => {
    const log = new MemoryEventLog();
    await append(log, 'room', 0, 4);
    const feed = sharedFeed(log);
    const room = await log.read('room', 0);
    const reference = referenceStream(['room'], new Map([['room', 0]]), room, false);
    const bytes = (chunks: readonly string[]) =>
      chunks.reduce((sum, c) => sum + new TextEncoder().encode(c).byteLength, 0);
    // Reached inside the third event (the multi-byte one is the second).
    const budget = bytes(reference.slice(0, 3)) + 1;

    const first = open(feed, ['room'], { byteBudget: budget });
    const second = open(feed, ['room'], { byteBudget: budget });
    const [a, b] = await Promise.all([first.done, second.done]);

    for (const [run, summary] of [
      [first, a],
      [second, b],
    ] as const) {
      expect(run.chunks).toEqual(reference.slice(0, 4));
      expect(summary).toEqual({
        events: 3,
        bytes: bytes(reference.slice(0, 4)),
        resets: 0,
        // Both resumed from position 0 of 4 stored events.
        startLag: 4,
        reason: 'budget',
      });
    }
  });
});
