import { encodeCursor, type ResumePoint } from './cursor.js';
import { envelopeOf } from './envelope.js';
import { type EventFeed, retainedRanges } from './event-feed.js';
import type { StoredEvent } from './event-log.js';
import { type Reset, resolveStart } from './resume.js';
import { encodeComment, encodeEvent, encodePadding } from './sse-encoder.js';
import type { StopCause } from './stop-time.js';

/** How one stream behaves; the adapters build it from configuration and the request. */
export interface StreamSessionOptions {
  readonly channels: readonly string[];
  readonly resume: ResumePoint;
  /** Send `data` as JSON `{id, channel, event, data, time}` (multi-channel clients). */
  readonly envelope: boolean;
  /** The client's reconnection delay, sent first as `retry:`. */
  readonly retryMs: number;
  /** A comment goes out when nothing else was written for this long. */
  readonly heartbeatMs: number;
  /**
   * When to end, ms since the epoch: the earliest of the jittered lifetime, the
   * invocation deadline less a margin, and the token's expiry (`stopTime`, stop-time.ts).
   */
  readonly stopAt: number;
  /** What set `stopAt`: the end reason of a stream that reaches it. @default 'lifetime' */
  readonly stopCause?: StopCause;
  /** End after the event that takes the stream to this many bytes. */
  readonly byteBudget: number;
  /** Events read per channel per read. */
  readonly pageSize: number;
  /** Bytes of comment sent first, for proxies that hold small writes back. 0 for none. */
  readonly paddingBytes: number;
}

export interface StreamSessionDependencies {
  readonly feed: EventFeed;
  readonly clock: () => number;
  /**
   * Sends text to the client; resolves when it may take more (back-pressure). A write
   * still pending at `stopAt` is abandoned: the session returns `stalled` and the host
   * must destroy the connection rather than end it, since an orderly end would wait for
   * the same drain.
   */
  readonly write: (chunk: string) => Promise<void> | void;
  /** Aborts when the client goes away (Node) or the host wants the stream ended. */
  readonly signal: AbortSignal;
  /**
   * Aborts when the server is shutting down (a Web Function environment being retired):
   * the stream ends cleanly after its last complete event, as at `stopAt`, with reason
   * `shutdown`, and the client reconnects elsewhere with its last id.
   */
  readonly shutdown?: AbortSignal | undefined;
  /** Told of each event written and each reset sent (the host's metrics). */
  readonly observer?: SessionObserver | undefined;
}

/** What a session reports while it runs, for metrics; it must not throw. */
export interface SessionObserver {
  /**
   * An event went to the client. `lagMs`: from the event's append time to its write,
   * for events appended after the stream began; `undefined` for the backlog a client
   * resumed into, whose age says how long the client was away, not how late we are.
   */
  delivered(channel: string, lagMs: number | undefined): void;
  reset(reset: Reset): void;
}

/**
 * Why a stream ended. `lifetime`, `deadline`, `token`: it reached `stopAt`, set by that
 * ({@link StopCause}). `budget`: it wrote its byte budget. `aborted`: the client went
 * away (Node) or the response stream broke. `stalled`: a write had not drained by
 * `stopAt` (a client that stopped reading); the connection must then be destroyed, not
 * ended. `shutdown`: the host asked every stream to end (SIGTERM); the response ends
 * like one at `stopAt`.
 */
export type StopReason = StopCause | 'budget' | 'aborted' | 'stalled' | 'shutdown';

export interface StreamSummary {
  readonly events: number;
  readonly bytes: number;
  readonly resets: number;
  /**
   * Events the stream started behind the heads, over all its channels (0 from latest):
   * how far back its client resumed.
   */
  readonly startLag: number;
  readonly reason: StopReason;
}

/** Event name of the first event of every stream (it carries `retry:` and the cursor). */
export const OPEN_EVENT = 'stream.open';
export const RESET_EVENT = 'stream.reset';

/**
 * One Server-Sent Events stream, from its first byte to its clean end.
 *
 * 1. `retry:` (and optional padding), then where the request starts is resolved
 *    against each channel's retained range; each channel that cannot resume gets a
 *    `stream.reset` event. A stream that starts without a full cursor sends a
 *    `stream.open` event, so its client holds a cursor from the first moment: a drop
 *    before the first real event then loses nothing.
 * 2. Backlog and live events are read page by page, per channel in order; every event
 *    carries as `id` the cursor of all channels after it.
 * 3. While idle it waits on the feed (adaptive polling or a shared poller) and sends a
 *    heartbeat comment when nothing was written for `heartbeatMs`.
 * 4. It ends between complete events: at `stopAt`, after the byte budget, or when
 *    aborted. The client reconnects with the last id and loses nothing. The one
 *    exception is a write that has not drained by `stopAt` (or when aborted): waiting on
 *    a client that does not read would hold the stream, its buffers and (on Lambda) a
 *    billed invocation for as long as that client likes, so the session gives up on the
 *    write and returns `stalled` (or `aborted`).
 *
 * Write errors and failures of the feed propagate to the caller once streaming began:
 * the Node adapter then destroys the response, and the Lambda adapter rethrows so that
 * the runtime ends the response with its error trailers. Either way the client
 * reconnects with its last id.
 */
export async function runStreamSession(
  options: StreamSessionOptions,
  deps: StreamSessionDependencies,
): Promise<StreamSummary> {
  const counts = { events: 0, bytes: 0, resets: 0, startLag: 0 };
  try {
    return await stream(options, deps, counts);
  } catch (error) {
    if (!(error instanceof GaveUp)) throw error;
    if (error.reason === 'aborted' && !deps.signal.aborted && deps.shutdown?.aborted === true) {
      return { ...counts, reason: 'shutdown' };
    }
    // Cut inside an event is safe: an SSE client dispatches an event only at its
    // closing blank line, so it drops the incomplete one and reconnects with the id of
    // the last complete event, from which this event is sent again. A read given up on
    // left nothing half-written.
    return {
      ...counts,
      reason: error.reason === 'time' ? (options.stopCause ?? 'lifetime') : error.reason,
    };
  }
}

async function stream(
  options: StreamSessionOptions,
  deps: StreamSessionDependencies,
  counts: { events: number; bytes: number; resets: number; startLag: number },
): Promise<StreamSummary> {
  const { feed, clock, shutdown, observer } = deps;
  const opened = clock();
  const stopCause = options.stopCause ?? 'lifetime';
  // Every wait ends on either abort; stopReason() tells the two apart.
  const signal = shutdown === undefined ? deps.signal : AbortSignal.any([deps.signal, shutdown]);
  let lastWrite = clock();

  // Buffer.byteLength counts without building the bytes, as TextEncoder would; a lone
  // surrogate counts 3 bytes in both, the U+FFFD the UTF-8 write turns it into.
  const send = async (chunk: string, bytes = Buffer.byteLength(chunk, 'utf8')): Promise<void> => {
    counts.bytes += bytes;
    lastWrite = clock();
    const pending = deps.write(chunk);
    if (pending !== undefined) await settledBy(pending, 'stalled', options.stopAt, clock, signal);
  };
  // A store that stalls is bounded by the AWS call limits, which may still reach past
  // the stop time (on Lambda, into the deadline): a read still pending then ends the
  // stream on time, between complete events.
  const read = <T>(pending: Promise<T>): Promise<T> =>
    settledBy(pending, 'time', options.stopAt, clock, signal);

  if (options.paddingBytes > 0) await send(encodePadding(options.paddingBytes));

  const ranges = await read(retainedRanges(feed, options.channels));
  const start = resolveStart(options.channels, options.resume, ranges);
  const positions = start.positions;
  for (const [channel, position] of positions) {
    counts.startLag += Math.max(0, (ranges.get(channel)?.last ?? position) - position);
  }
  const cursor = () => encodeCursor(positions);
  // A one-channel stream's frame for an event depends on nothing else: every such stream
  // sends the same bytes, which the shared feed lets them encode once (sharedFrame).
  const single = options.channels.length === 1;

  const sendReset = (reset: Reset) => {
    counts.resets += 1;
    observer?.reset(reset);
    return send(encodeEvent({ id: cursor(), event: RESET_EVENT, data: JSON.stringify(reset) }));
  };

  // Every stream opens with one event that carries `retry:` and the starting cursor. A
  // `retry:` block of its own has no data, and some clients (fetch-event-source,
  // httpx-sse) turn such a block into an empty `message` event; the cursor lets a client
  // that drops before the first real event resume from here, not from "latest".
  await send(
    encodeEvent({
      id: cursor(),
      event: OPEN_EVENT,
      retry: options.retryMs,
      data: JSON.stringify({ channels: options.channels }),
    }),
  );
  for (const reset of start.resets) await sendReset(reset);

  const stopReason = (): StopReason | undefined => {
    if (deps.signal.aborted) return 'aborted';
    if (shutdown?.aborted === true) return 'shutdown';
    if (counts.bytes >= options.byteBudget) return 'budget';
    if (clock() >= options.stopAt) return stopCause;
    return undefined;
  };

  for (;;) {
    let reason = stopReason();
    if (reason !== undefined) return { ...counts, reason };

    let pageFull = false;
    for (const channel of options.channels) {
      const after = positions.get(channel) ?? 0;
      const page = await read(feed.read(channel, after, { limit: options.pageSize }));
      if (page.length === options.pageSize) pageFull = true;
      const first = page[0];
      if (first !== undefined && first.position !== after + 1) {
        // The events in between expired while the stream was running: say so.
        positions.set(channel, first.position - 1);
        await sendReset({ channel, reason: 'expired', missed: first.position - 1 - after });
      }
      for (const event of page) {
        positions.set(channel, event.position);
        const frame = single ? sharedFrame(event, channel, options.envelope) : undefined;
        if (frame !== undefined) {
          await send(frame.text, frame.bytes);
        } else {
          await send(encodeFrame(event, cursor(), options.envelope));
        }
        counts.events += 1;
        if (observer !== undefined) {
          observer.delivered(
            channel,
            event.time >= opened ? Math.max(0, lastWrite - event.time) : undefined,
          );
        }
        reason = stopReason();
        if (reason !== undefined) return { ...counts, reason };
      }
    }
    if (pageFull) continue;

    const now = clock();
    const heartbeatDue = lastWrite + options.heartbeatMs;
    await feed.waitForNews(
      positions,
      Math.max(0, Math.min(heartbeatDue, options.stopAt) - now),
      signal,
    );
    if (!signal.aborted && clock() >= lastWrite + options.heartbeatMs) {
      await send(encodeComment(''));
    }
  }
}

/** One event as its SSE block: `id` is the stream's cursor after it. */
function encodeFrame(event: StoredEvent, id: string, envelope: boolean): string {
  return encodeEvent({
    id,
    event: envelope || event.event === 'message' ? undefined : event.event,
    data: envelope ? JSON.stringify(envelopeOf(event, id)) : event.data,
  });
}

interface Frame {
  readonly text: string;
  readonly bytes: number;
}

/**
 * Frames of events for one-channel streams, by event object, plain and enveloped. A
 * shared feed hands every stream of a channel the same event objects from its ring, so
 * with 1,000 subscribers an event is encoded once, not 1,000 times; a WeakMap lets a
 * frame go with its event. Its id is the one-channel cursor at the event's position,
 * exactly what such a stream computes.
 */
const frames = new WeakMap<StoredEvent, { plain?: Frame; envelope?: Frame }>();

function sharedFrame(event: StoredEvent, channel: string, envelope: boolean): Frame {
  let entry = frames.get(event);
  if (entry === undefined) {
    entry = {};
    frames.set(event, entry);
  }
  const cached = envelope ? entry.envelope : entry.plain;
  if (cached !== undefined) return cached;
  const text = encodeFrame(event, encodeCursor(new Map([[channel, event.position]])), envelope);
  const frame = { text, bytes: Buffer.byteLength(text, 'utf8') };
  if (envelope) entry.envelope = frame;
  else entry.plain = frame;
  return frame;
}

/** A write or read given up on; the session ends with `reason`. */
class GaveUp extends Error {
  constructor(readonly reason: 'stalled' | 'time' | 'aborted') {
    super(`gave up waiting: ${reason}`);
  }
}

/** How a pending write or read turned out, as seen when it settled. */
type Outcome<T> =
  | { readonly kind: 'value'; readonly value: T }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'aborted' };

/**
 * Waits for a pending write or read, but no later than `stopAt` (then it gives up with
 * `late`) and no longer than `signal` stays unaborted. The outcome is still observed
 * after that, so a late rejection (the host destroying the stream, a read timing out)
 * is not left unhandled.
 *
 * A shared feed answers most reads from its ring with a promise that is already
 * settled, and arming a timer and an abort listener for each of them was about a third
 * of the CPU of a delivery to 1,000 streams. So the pending promise first gets one
 * microtask to show it has settled; only one that has not gets the timer and listener.
 * The answer is the one they would have given: a timer of at least 0 ms cannot fire
 * within microtasks, and an abort wins exactly when it came before the settlement.
 */
async function settledBy<T>(
  pending: Promise<T>,
  late: 'stalled' | 'time',
  stopAt: number,
  clock: () => number,
  signal: AbortSignal,
): Promise<T> {
  if (signal.aborted) {
    pending.catch(() => undefined);
    throw new GaveUp('aborted');
  }
  let outcome: Outcome<T> | undefined;
  pending.then(
    (value) => {
      outcome = signal.aborted ? { kind: 'aborted' } : { kind: 'value', value };
    },
    (error: unknown) => {
      outcome = signal.aborted ? { kind: 'aborted' } : { kind: 'error', error };
    },
  );
  // `then` on a settled promise queues its reaction before this continuation.
  await undefined;
  const seen: Outcome<T> | undefined = outcome;
  if (seen === undefined) return raceDeadline(pending, late, stopAt, clock, signal);
  if (seen.kind === 'value') return seen.value;
  if (seen.kind === 'error') throw seen.error;
  throw new GaveUp('aborted');
}

/** {@link settledBy} for a promise still pending: a timer at `stopAt` and the signal. */
function raceDeadline<T>(
  pending: Promise<T>,
  late: 'stalled' | 'time',
  stopAt: number,
  clock: () => number,
  signal: AbortSignal,
): Promise<T> {
  if (signal.aborted) return Promise.reject(new GaveUp('aborted'));
  return new Promise<T>((resolve, reject) => {
    const settle = (outcome: () => void): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = (): void => settle(() => reject(new GaveUp('aborted')));
    const timer = setTimeout(
      () => settle(() => reject(new GaveUp(late))),
      Math.max(0, stopAt - clock()),
    );
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}
