import type { Clock } from '../clock.js';
import { asEvent, asReset, parseJson } from '../http.js';
import type {
  ClientEvent,
  EventSourceConstructor,
  EventSourceEventLike,
  EventSourceLike,
  ResetNotice,
} from '../types.js';
import type { PollOutcome } from './poll.js';

export interface StreamTiming {
  /** No `open` (response headers) within this long: the stream does not work here. */
  readonly openTimeoutMs: number;
  /** A stream started without a cursor must send `stream.open` within this long. */
  readonly firstEventTimeoutMs: number;
  /** After this long without an event, ask `/poll` whether the stream is behind. */
  readonly stallCheckMs: number;
  /** How long the stream gets to deliver what `/poll` showed before it counts as stalled. */
  readonly stallGraceMs: number;
}

/** What one stream tells the subscription, as it happens. */
export interface StreamSink {
  /** Response headers arrived. */
  opened(): void;
  event(event: ClientEvent): void;
  /** `stream.open`: the starting cursor of a stream that began without one. */
  started(cursor: string): void;
  reset(reset: Omit<ResetNotice, 'transport'>, cursor: string): void;
  /** An event whose data is not an envelope; it still moves the cursor. */
  malformed(cursor: string, what: string): void;
  /** The stream showed it works: an event, or a stall check that found nothing pending. */
  healthy(): void;
  /** `GET /poll?wait=0` from the current cursor, to see whether the stream is behind. */
  probe(signal: AbortSignal): Promise<PollOutcome>;
}

export type StreamOutcome =
  /** Closed by the subscription. */
  | { readonly kind: 'stopped' }
  /** Closed by the subscription to reconnect with a fresh token. */
  | { readonly kind: 'renew' }
  /** Failed before `open`: an error answer, no server, or no `open` in time. */
  | { readonly kind: 'refused'; readonly reason: string }
  /** Ended after `open` (the server's clean end, or a dropped connection). */
  | { readonly kind: 'ended'; readonly healthy: boolean }
  /** Open, but nothing comes through while the log has news: something buffers it. */
  | { readonly kind: 'stalled'; readonly reason: string };

export interface StreamHandle {
  readonly done: Promise<StreamOutcome>;
  stop(kind: 'stopped' | 'renew'): void;
}

/**
 * One `EventSource` connection, from `new EventSource(url)` to its first failure.
 *
 * The browser's own reconnection is not used: the subscription closes the source on
 * any error and opens a new one with `lastEventId` from its own cursor, which survives
 * a switch to polling and back, a page reload (through storage) and a new token in the
 * URL; a native reconnect would carry none of that and would retry without backoff.
 *
 * Heartbeat comments are invisible through the `EventSource` API, so a stream that
 * opened but is held back by a buffering proxy is recognised in two ways: a stream
 * started without a cursor must deliver `stream.open` at once; any other stream that is
 * quiet for `stallCheckMs` is compared with `/poll` from the same cursor, and counts as
 * stalled if the log has news that the stream does not deliver within `stallGraceMs`.
 */
export function openStream(
  EventSourceClass: EventSourceConstructor,
  url: string,
  options: {
    readonly expectOpenEvent: boolean;
    readonly timing: StreamTiming;
    readonly clock: Clock;
  },
  sink: StreamSink,
): StreamHandle {
  const { timing, clock } = options;
  let resolveDone: (outcome: StreamOutcome) => void = () => {};
  const done = new Promise<StreamOutcome>((resolve) => {
    resolveDone = resolve;
  });
  let finished = false;
  let opened = false;
  let active = false;
  /** Events seen so far; a stall check compares it before and after its grace period. */
  let seen = 0;
  let cancelWatch: (() => void) | undefined;
  const probes = new AbortController();

  let source: EventSourceLike;
  try {
    source = new EventSourceClass(url);
  } catch (error) {
    return {
      done: Promise.resolve({ kind: 'refused', reason: `EventSource threw: ${String(error)}` }),
      stop: () => {},
    };
  }

  const finish = (outcome: StreamOutcome): void => {
    if (finished) return;
    finished = true;
    cancelWatch?.();
    probes.abort();
    source.close();
    resolveDone(outcome);
  };

  const arm = (ms: number, fire: () => void): void => {
    cancelWatch?.();
    cancelWatch = clock.timer(ms, fire);
  };

  const watchForStall = (): void => {
    if (options.expectOpenEvent && !active) {
      arm(timing.firstEventTimeoutMs, () =>
        finish({
          kind: 'stalled',
          reason: `no stream.open within ${timing.firstEventTimeoutMs} ms`,
        }),
      );
      return;
    }
    arm(timing.stallCheckMs, () => void checkForStall());
  };

  const checkForStall = async (): Promise<void> => {
    const before = seen;
    const answer = await sink.probe(probes.signal);
    if (finished || seen !== before) return;
    if (answer.kind !== 'ok') {
      // The probe failed: the stream itself will say if it is broken.
      watchForStall();
      return;
    }
    if (answer.events.length === 0 && answer.resets.length === 0) {
      active = true;
      sink.healthy();
      watchForStall();
      return;
    }
    arm(timing.stallGraceMs, () => {
      if (seen === before) {
        finish({
          kind: 'stalled',
          reason: `the log has news the stream did not deliver within ${timing.stallGraceMs} ms`,
        });
      } else watchForStall();
    });
  };

  /** Runs `handle` for a message of the live stream; a closed source may still dispatch. */
  const onMessage =
    (handle: (event: EventSourceEventLike, id: string) => void) =>
    (event: EventSourceEventLike): void => {
      if (finished) return;
      const id = typeof event.lastEventId === 'string' ? event.lastEventId : '';
      seen += 1;
      active = true;
      handle(event, id);
      if (finished) return;
      sink.healthy();
      watchForStall();
    };

  arm(timing.openTimeoutMs, () =>
    finish({ kind: 'refused', reason: `no open within ${timing.openTimeoutMs} ms` }),
  );

  source.addEventListener('open', () => {
    if (finished || opened) return;
    opened = true;
    sink.opened();
    if (!finished) watchForStall();
  });
  source.addEventListener(
    'message',
    onMessage((event, id) => {
      const envelope = asEvent(parseJson(String(event.data)));
      if (envelope === undefined) sink.malformed(id, 'an event whose data is not an envelope');
      else sink.event({ ...envelope, id: id || envelope.id });
    }),
  );
  source.addEventListener(
    'stream.open',
    onMessage((_event, id) => sink.started(id)),
  );
  source.addEventListener(
    'stream.reset',
    onMessage((event, id) => {
      const reset = asReset(parseJson(String(event.data)));
      if (reset === undefined) sink.malformed(id, 'a stream.reset whose data is malformed');
      else sink.reset(reset, id);
    }),
  );
  source.addEventListener('error', () => {
    if (finished) return;
    finish(
      opened
        ? { kind: 'ended', healthy: active }
        : { kind: 'refused', reason: 'the stream failed before it opened' },
    );
  });

  return { done, stop: (kind) => finish({ kind }) };
}
