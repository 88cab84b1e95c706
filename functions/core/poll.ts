import { encodeCursor, type ResumePoint } from './cursor.js';
import { type EnvelopedEvent, envelopeOf } from './envelope.js';
import { type EventFeed, retainedRanges } from './event-feed.js';
import { type Reset, resolveStart } from './resume.js';

export interface PollOptions {
  readonly channels: readonly string[];
  readonly resume: ResumePoint;
  /** Long-poll: how long to wait for a first event when there is none yet. */
  readonly waitMs: number;
  /** Most events in one answer. */
  readonly limit: number;
  /** Stop adding events once the answer holds this many bytes of payload. */
  readonly maxBytes: number;
}

export interface PollDependencies {
  readonly feed: EventFeed;
  readonly clock: () => number;
  readonly signal: AbortSignal;
}

/** The `/poll` answer (DESIGN.md): events, the cursor to send next, and any resets. */
export interface PollResult {
  readonly events: EnvelopedEvent[];
  readonly cursor: string;
  readonly resets: Reset[];
}

const utf8 = new TextEncoder();

/**
 * One poll: the same resume rules as a stream, a bounded page of events across the
 * channels (each channel gets a fair share of `limit`), and, when there is nothing
 * to say and `waitMs` > 0, a wait for the first event.
 */
export async function runPoll(options: PollOptions, deps: PollDependencies): Promise<PollResult> {
  const { feed, clock, signal } = deps;
  const start = resolveStart(
    options.channels,
    options.resume,
    await retainedRanges(feed, options.channels),
  );
  const { positions } = start;
  const resets = [...start.resets];
  const events: EnvelopedEvent[] = [];
  let bytes = 0;

  /** One pass: every channel gets a fair share of the room left. */
  const pass = async (): Promise<boolean> => {
    let more = false;
    const share = Math.max(1, Math.ceil((options.limit - events.length) / options.channels.length));
    for (const channel of options.channels) {
      if (events.length >= options.limit || bytes >= options.maxBytes) return false;
      const after = positions.get(channel) ?? 0;
      const limit = Math.min(share, options.limit - events.length);
      const page = await feed.read(channel, after, { limit });
      const first = page[0];
      if (first !== undefined && first.position !== after + 1) {
        positions.set(channel, first.position - 1);
        resets.push({ channel, reason: 'expired', missed: first.position - 1 - after });
      }
      for (const event of page) {
        if (bytes >= options.maxBytes) return false;
        positions.set(channel, event.position);
        events.push(envelopeOf(event, encodeCursor(positions)));
        bytes += utf8.encode(event.data).byteLength;
      }
      if (page.length === limit) more = true;
    }
    return more;
  };

  /** Passes until the answer is full or no channel has more (a busy channel may use what quiet ones left). */
  const collect = async (): Promise<void> => {
    while ((await pass()) && events.length < options.limit && bytes < options.maxBytes) {}
  };

  await collect();
  const deadline = clock() + options.waitMs;
  while (events.length === 0 && resets.length === 0 && !signal.aborted && clock() < deadline) {
    await feed.waitForNews(positions, deadline - clock(), signal);
    await collect();
  }
  return { events, cursor: encodeCursor(positions), resets };
}
