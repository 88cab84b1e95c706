/**
 * Public types of the client SDK. Kept free of DOM and Node types, so the package
 * type-checks and runs in browsers, React Native and Node alike.
 */

/** One published event, as `/poll` and `envelope=1` streams give it. */
export interface ClientEvent {
  /** Opaque cursor: "everything up to and including this event". Store it, never parse it. */
  readonly id: string;
  readonly channel: string;
  /** The published event name (`message` when the publisher gave none). */
  readonly event: string;
  /** The payload, verbatim. */
  readonly data: string;
  /** When the event was stored, ISO 8601. */
  readonly time: string;
}

/**
 * The server could not resume where the subscription asked to (a `stream.reset`):
 * - `expired`: events after the cursor left retention; `missed` counts them; delivery
 *   goes on from the oldest retained event;
 * - `ahead`: the cursor is beyond the channel's newest event; delivery goes on from the
 *   newest;
 * - `invalid_cursor`: the server refused the stored cursor as malformed (not one it
 *   issued); the subscription starts again from the latest event.
 */
export interface ResetNotice {
  readonly channel: string;
  readonly reason: string;
  readonly missed?: number;
  readonly transport: TransportKind;
}

export type TransportKind = 'sse' | 'poll';

/**
 * - `connecting`: no transport is live yet (first connection, or a switch of transport);
 * - `open`: streaming, and the subscription's place in the log is fixed: nothing
 *   published from now on can be missed;
 * - `polling`: long-polling, place fixed likewise;
 * - `reconnecting`: waiting (backoff) before the next attempt;
 * - `closed`: unsubscribed, or stopped by an error that retrying cannot fix.
 */
export type ConnectionState = 'connecting' | 'open' | 'polling' | 'reconnecting' | 'closed';

export interface StateInfo {
  readonly transport: TransportKind;
  /** Failed attempts in a row (0 once a transport works). */
  readonly attempt: number;
  /** Why the state changed, when an error made it. */
  readonly error?: SubscribeError;
  /** `reconnecting`: how long until the next attempt, ms. */
  readonly retryInMs?: number;
}

/**
 * Where cursors are kept between runs: `localStorage` in a browser, AsyncStorage (or
 * any store with the same two methods) in React Native. Sync or async, both work.
 */
export interface CursorStorage {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>;
  setItem(key: string, value: string): void | Promise<void>;
}

/** What the SDK uses of an `EventSource` event: messages, `open` and `error` alike. */
export interface EventSourceEventLike {
  readonly data?: unknown;
  readonly lastEventId?: string;
}

/** The part of `EventSource` the SDK uses (the browser's, or a polyfill's). */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: EventSourceEventLike) => void): void;
  close(): void;
}

export type EventSourceConstructor = new (url: string) => EventSourceLike;

/** The part of a `fetch` response the SDK reads. */
export interface FetchResponseLike {
  readonly status: number;
  text(): Promise<string>;
}

/** The part of `fetch` the SDK uses: plain GETs with an abort signal. */
export type FetchLike = (
  url: string,
  init: { readonly signal: AbortSignal; readonly headers?: Record<string, string> },
) => Promise<FetchResponseLike>;

export type ErrorCode =
  /** 401 and no way to get a better token (static `token`, or none). */
  | 'unauthorized'
  /** 403: the token does not grant a channel. */
  | 'forbidden'
  /** 400, 404, 405 and other answers that retrying cannot change. */
  | 'bad_request'
  /** A request failed or timed out, or the server answered 5xx/429: retried. */
  | 'network'
  /** The server said something the SDK cannot read: retried. */
  | 'protocol'
  /** The stream opened but delivered nothing while the log had news (a buffering proxy). */
  | 'stalled'
  /** `getToken` threw or returned no string: retried. */
  | 'token'
  /** The storage adapter threw: the cursor is kept in memory only. */
  | 'storage'
  /** `onEvent` or `onReset` threw: the event counts as delivered. */
  | 'handler'
  /** A `stream.reset` arrived and no `onReset` was given. */
  | 'reset';

/** Every error the SDK reports; `fatal` ones end the subscription (state `closed`). */
export class SubscribeError extends Error {
  override readonly name = 'SubscribeError';
  readonly code: ErrorCode;
  /** HTTP status, when a server answer caused it. */
  readonly status: number | undefined;
  readonly fatal: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; fatal?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.fatal = options.fatal ?? false;
  }
}
