import type { ClientEvent, FetchLike, ResetNotice } from './types.js';

/** Query-string pieces, written out: React Native's `URLSearchParams` is incomplete. */
export function endpointUrl(
  base: string,
  path: 'events' | 'poll',
  channels: readonly string[],
  params: Readonly<Record<string, string | undefined>>,
): string {
  const parts = channels.map((c) => `channel=${encodeURIComponent(c)}`);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) parts.push(`${name}=${encodeURIComponent(value)}`);
  }
  return `${base.replace(/\/+$/, '')}/${path}?${parts.join('&')}`;
}

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

/**
 * One `GET /poll`, bounded by `timeoutMs` (a dead mobile connection can otherwise
 * hang a request for minutes) and abortable through `signal`. Never throws.
 */
export async function pollOnce(
  fetchFn: FetchLike,
  url: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<PollOutcome> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal.addEventListener('abort', abort);
  const timer = setTimeout(abort, timeoutMs);
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
    clearTimeout(timer);
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

/** An `envelope=1` event or a polled one: every field a string. */
export function asEvent(value: unknown): ClientEvent | undefined {
  if (!isRecord(value)) return undefined;
  const { id, channel, event, data, time } = value;
  if (
    typeof id !== 'string' ||
    typeof channel !== 'string' ||
    typeof event !== 'string' ||
    typeof data !== 'string' ||
    typeof time !== 'string'
  ) {
    return undefined;
  }
  return { id, channel, event, data, time };
}

/** A `stream.reset` notice: `{channel, reason, missed?}`. */
export function asReset(value: unknown): Omit<ResetNotice, 'transport'> | undefined {
  if (!isRecord(value)) return undefined;
  const { channel, reason, missed } = value;
  if (typeof channel !== 'string' || typeof reason !== 'string') return undefined;
  return typeof missed === 'number' ? { channel, reason, missed } : { channel, reason };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
