import { quote } from './quote.js';
/**
 * The one Server-Sent Events encoder (STYLE.md §4). Every byte the stream writes goes
 * through these pure functions, which return strings; the adapters turn them into UTF-8.
 *
 * Rules come from the WHATWG HTML Standard, §9.2 "Server-sent events"
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html), chiefly §9.2.5
 * "Parsing an event stream" and §9.2.6 "Interpreting an event stream".
 *
 * Guarantee 5 (DESIGN.md: no event text can forge SSE framing) rests on three facts:
 * - the output never contains CR, so the only line terminator on the wire is LF, which
 *   the encoder writes itself;
 * - every line starts with a field name the encoder chose (`id`, `event`, `retry`,
 *   `data`) or with `:` (a comment), so no caller text is ever at the start of a line;
 * - `id` and `event` values, which cannot span lines, are refused if they contain a line
 *   break; `data` and comment text are split at every line break and each piece is
 *   prefixed again.
 *
 * What round-trips through a spec-conforming parser (checked in test/unit/functions/core/sse-encoder.test.ts
 * against eventsource-parser, byte by byte and through a streaming `TextDecoder`):
 * - Empty data: `data:` followed by the blank line IS dispatched, with data `''`. The
 *   "if the data buffer is an empty string … return" step of §9.2.6 "dispatch the event"
 *   does not apply, because processing a `data` field appends the value *and an LF*, so
 *   the buffer is `"\n"`; the trailing LF is removed only afterwards. (Web platform tests
 *   `eventsource/format-field-data` assert the same.) An event with no `data` line at all
 *   would not be dispatched, which is why {@link encodeEvent} always writes at least one.
 * - Line breaks in data: CR, LF and CRLF all end a line (§9.2.5 `end-of-line`), so the
 *   client sees each as LF. A payload's CR characters cannot survive; this is inherent to
 *   SSE, not a choice made here.
 * - A leading space in a value: one U+0020 after the colon is removed (§9.2.6 "If value
 *   starts with a U+0020 SPACE character, remove it from value"), and the encoder always
 *   writes that one space before a non-empty value, so `'  x'` arrives as `'  x'`.
 * - NUL: kept inside data (the parser only looks at it in `id`). An `id` containing NUL
 *   is ignored by clients (§9.2.6 "If the field value does not contain U+0000 NULL"), so
 *   it is refused here rather than silently lost.
 * - U+FEFF (BOM): only a BOM at the very start of the stream is dropped (§9.2.5, and the
 *   UTF-8 decode the client performs). Every encoded block starts with ASCII (`id`,
 *   `event`, `retry`, `data` or `:`), so a BOM inside a payload, even at its start, is
 *   delivered.
 * - U+2028, U+2029, U+0085 and other Unicode separators are not SSE line terminators
 *   and pass through unchanged.
 * - Lone surrogates: the strings round-trip, but UTF-8 encoding in the adapter would turn
 *   each into U+FFFD. Payloads are refused upstream (`checkPayload` in contract.ts); `id`
 *   and `event`, which must come back byte-identical, are refused here.
 */

/** Which input an {@link SseEncodingError} is about. */
export type SseField = 'id' | 'event' | 'retry' | 'bytes';

/** An input that cannot be written as SSE without changing its meaning or forging framing. */
export class SseEncodingError extends Error {
  override readonly name = 'SseEncodingError';
  /** The offending input, named the way the caller passed it. */
  readonly field: SseField;

  constructor(field: SseField, message: string) {
    super(message);
    this.field = field;
  }
}

/** One event as the stream wants it delivered. */
export interface SseEvent {
  /**
   * Becomes the client's last event ID, sent back as `Last-Event-ID` on reconnect. The
   * empty string is written (`id:`) and resets it; `undefined` writes no `id` line, and
   * the client then keeps the previous ID (§9.2.6: the last event ID buffer is not reset
   * when an event is dispatched).
   */
  readonly id?: string | undefined;
  /**
   * The event type. The caller omits it for `message`; if given it is written, and an
   * empty string makes clients use `message` anyway (§9.2.6 "dispatch the event").
   */
  readonly event?: string | undefined;
  /** The payload; any text. Line breaks (CR, LF, CRLF) reach the client as LF. */
  readonly data: string;
  /** Reconnection time in milliseconds, if this event should also set it. */
  readonly retry?: number | undefined;
}

/**
 * Padding to send before the first event when a proxy or runtime holds small first
 * writes back: 2 KiB, the customary amount (the example server of the widely used
 * Yaffle EventSource polyfill sends `":" + 2048 spaces` for old Internet Explorer).
 */
export const DEFAULT_PADDING_BYTES = 2048;

/** CR, LF and CRLF each end a line (§9.2.5, `end-of-line`); CRLF must be tried first. */
const LINE_BREAK = /\r\n|\r|\n/;
const CR_OR_LF = /[\r\n]/;

/**
 * `name: value` or, for an empty value, `name:` alone. The single space is what makes a
 * value that itself starts with a space survive: the client removes exactly one
 * (§9.2.6, "If value starts with a U+0020 SPACE character, remove it from value").
 */
function fieldLine(name: string, value: string): string {
  return value === '' ? `${name}:\n` : `${name}: ${value}\n`;
}

function checkId(id: string): void {
  if (CR_OR_LF.test(id)) {
    throw new SseEncodingError('id', `id ${quote(id)} must not contain CR or LF`);
  }
  // §9.2.6: "If the field value does not contain U+0000 NULL, then set the last event ID
  // buffer to the field value. Otherwise, ignore the field." A client would silently keep
  // its previous ID, so resuming would replay events.
  if (id.includes('\u0000')) {
    throw new SseEncodingError('id', `id ${quote(id)} must not contain NUL (clients ignore it)`);
  }
  if (!id.isWellFormed()) {
    throw new SseEncodingError('id', 'id is not well-formed Unicode (lone surrogate)');
  }
}

function checkEventName(event: string): void {
  if (CR_OR_LF.test(event)) {
    throw new SseEncodingError('event', `event ${quote(event)} must not contain CR or LF`);
  }
  if (!event.isWellFormed()) {
    throw new SseEncodingError('event', 'event is not well-formed Unicode (lone surrogate)');
  }
}

/** §9.2.6: `retry` is honoured only if its value "consists of only ASCII digits". */
function checkRetry(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new SseEncodingError('retry', `retry must be a non-negative integer, got ${ms}`);
  }
}

/**
 * Encodes one event: `event` and `retry` (each only if given), one `data` line per line
 * of `data`, `id` (if given), then the blank line that dispatches it (§9.2.6, "If the line is empty
 * (a blank line): Dispatch the event").
 *
 * @throws SseEncodingError if `id` contains CR, LF or NUL, `event` contains CR or LF,
 *   either is not well-formed Unicode, or `retry` is not a non-negative integer.
 *
 * @example encodeEvent({ id: '7', event: 'price', data: 'a\r\nb' })
 *   // 'event: price\ndata: a\ndata: b\nid: 7\n\n'
 * @example encodeEvent({ data: '' }) // 'data:\n\n', delivered with data ''
 */
export function encodeEvent(event: SseEvent): string {
  const { id, event: type, data, retry } = event;
  let out = '';
  if (id !== undefined) checkId(id);
  if (type !== undefined) {
    checkEventName(type);
    out += fieldLine('event', type);
  }
  if (retry !== undefined) {
    checkRetry(retry);
    out += fieldLine('retry', String(retry));
  }
  // §9.2.6 "If the field name is 'data'": lines are joined back with LF by the client.
  for (const line of data.split(LINE_BREAK)) out += fieldLine('data', line);
  // `id` last: the spec lets fields come in any order, but some clients
  // (@microsoft/fetch-event-source) adopt an id as soon as they read its line, so an id
  // sent first and then cut off with its event would make them resume after an event
  // they never got.
  if (id !== undefined) out += fieldLine('id', id);
  return `${out}\n`;
}

/**
 * A block that only sets the client's reconnection time (§9.2.6, "If the field name is
 * 'retry'"). Its blank line dispatches nothing because no `data` line came before it,
 * and it closes the block so nothing after it can merge into it.
 *
 * @throws SseEncodingError if `ms` is not a non-negative integer.
 */
export function encodeRetry(ms: number): string {
  checkRetry(ms);
  return `${fieldLine('retry', String(ms))}\n`;
}

/**
 * A comment (§9.2.6, "If the line starts with a U+003A COLON character (:) — Ignore the
 * line"), used for heartbeats. Each line of `text` gets its own `:` prefix, so a line
 * break in the text can never start a field; no blank line is written, so a comment never
 * dispatches or ends anything. `encodeComment('')` is `:\n`.
 */
export function encodeComment(text: string): string {
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += line === '' ? ':\n' : `: ${line}\n`;
  return out;
}

/**
 * One comment line of exactly `bytes` bytes (`:`, spaces, LF), sent first to push a small
 * first write through buffering proxies. The smallest is `:\n` (2 bytes).
 *
 * @throws SseEncodingError if `bytes` is not an integer of at least 2.
 */
export function encodePadding(bytes: number = DEFAULT_PADDING_BYTES): string {
  if (!Number.isSafeInteger(bytes) || bytes < 2) {
    throw new SseEncodingError(
      'bytes',
      `padding must be an integer of at least 2 bytes, got ${bytes}`,
    );
  }
  return `:${' '.repeat(bytes - 2)}\n`;
}
