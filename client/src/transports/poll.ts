/**
 * The `/poll` transport: one long poll at a time, bounded and abortable, its answer read
 * into events, resets and a cursor, or into the failure it was; and how long to wait and
 * pause around it.
 */
import type { Clock } from '../clock.js';
import { asEvent, asReset, isRecord, parseJson } from '../http.js';
import type { ClientEvent, FetchLike, ResetNotice } from '../types.js';

/** A server answer other than 200: the contract's `{"error":{"code","message"}}`. */
export interface HttpFailure {
  readonly kind: 'http';
  readonly status: number;
  readonly code: string | undefined;
  readonly message: string;
}

export interface NetworkFailure {
  readonly kind: 'network';
  readonly message: string;
  readonly cause?: unknown;
}

export interface PollAnswer {
  readonly kind: 'ok';
  readonly events: ClientEvent[];
  readonly cursor: string;
  readonly resets: Omit<ResetNotice, 'transport'>[];
}

/** A 200 whose body is not a poll answer (a captive portal, a proxy's page). */
export interface ProtocolFailure {
  readonly kind: 'protocol';
  readonly message: string;
}

export type PollOutcome = PollAnswer | HttpFailure | NetworkFailure | ProtocolFailure;

export interface PollHandle {
  readonly done: Promise<PollOutcome>;
  stop(): void;
}

/** One long poll of `url`; {@link PollHandle.stop} abandons it. */
export function openPoll(
  fetchFn: FetchLike,
  url: string,
  options: { readonly timeoutMs: number; readonly clock: Clock },
): PollHandle {
  const controller = new AbortController();
  return {
    done: pollOnce(fetchFn, url, options.timeoutMs, controller.signal, options.clock),
    stop: () => controller.abort(),
  };
}

/**
 * One `GET /poll`, bounded by `timeoutMs` (a dead mobile connection can otherwise
 * hang a request for minutes) and abortable through `signal`. Never throws.
 */
export async function pollOnce(
  fetchFn: FetchLike,
  url: string,
  timeoutMs: number,
  signal: AbortSignal,
  clock: Clock,
): Promise<PollOutcome> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal.addEventListener('abort', abort);
  const cancelTimer = clock.timer(timeoutMs, abort);
  try {
    const response = await fetchFn(url, { signal: controller.signal });
    const text = await response.text();
    if (response.status !== 200) return httpFailure(response.status, text);
    return parsePollAnswer(text);
  } catch (error) {
    const timedOut = controller.signal.aborted && !signal.aborted;
    return {
      kind: 'network',
      message: timedOut ? `no answer within ${timeoutMs} ms` : describe(error),
      cause: error,
    };
  } finally {
    cancelTimer();
    signal.removeEventListener('abort', abort);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function httpFailure(status: number, text: string): HttpFailure {
  let code: string | undefined;
  let message = `HTTP ${status}`;
  const body = parseJson(text);
  const error = isRecord(body) ? body.error : undefined;
  if (isRecord(error)) {
    if (typeof error.code === 'string') code = error.code;
    if (typeof error.message === 'string') message = `HTTP ${status}: ${error.message}`;
  }
  return { kind: 'http', status, code, message };
}

export function parsePollAnswer(text: string): PollAnswer | ProtocolFailure {
  const body = parseJson(text);
  if (!isRecord(body) || !Array.isArray(body.events) || typeof body.cursor !== 'string') {
    return { kind: 'protocol', message: 'the poll answer is not {events, cursor}' };
  }
  const events: ClientEvent[] = [];
  for (const item of body.events) {
    const event = asEvent(item);
    if (event === undefined) return { kind: 'protocol', message: 'a polled event is malformed' };
    events.push(event);
  }
  const resets: Omit<ResetNotice, 'transport'>[] = [];
  for (const item of Array.isArray(body.resets) ? body.resets : []) {
    const reset = asReset(item);
    if (reset === undefined) return { kind: 'protocol', message: 'a polled reset is malformed' };
    resets.push(reset);
  }
  return { kind: 'ok', events, cursor: body.cursor, resets };
}

/**
 * The next poll's wait, seconds. The first poll answers at once with the starting
 * cursor; then long-poll, but not past the time to try streaming again.
 *
 * @param msUntilStream while falling back, how long until streaming is tried again
 */
export function longPollWait(
  cursor: string | undefined,
  pollWaitSeconds: number,
  msUntilStream: number | undefined,
): number {
  let wait = cursor === undefined ? 0 : pollWaitSeconds;
  if (msUntilStream !== undefined)
    wait = Math.min(wait, Math.max(0, Math.ceil(msUntilStream / 1000)));
  return wait;
}

/** An empty long-poll answer that came sooner than this is followed by a pause. */
const MIN_EMPTY_POLL_MS = 1_000;

/**
 * How long to pause before the next poll, ms (0: none). A long poll that comes back
 * empty at once (a proxy or server that ignores `wait`) must not turn into a busy loop.
 */
export function pauseAfterPoll(answer: PollAnswer, waitSeconds: number, elapsedMs: number): number {
  const early = MIN_EMPTY_POLL_MS - elapsedMs;
  if (waitSeconds > 0 && answer.events.length === 0 && answer.resets.length === 0 && early > 0) {
    return early;
  }
  return 0;
}
