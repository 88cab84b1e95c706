/**
 * How `tail` shows what the stream sends: pure functions from a received SSE message to
 * a record, and from a record to terminal text or one JSON line. No I/O, no clock (the
 * time of arrival is passed in), so every case is tested directly.
 */
import { createHash } from 'node:crypto';

/** One SSE message as the EventSource delivered it. */
export interface ReceivedMessage {
  /** The SSE event type: `message`, a published event name, `stream.open`, `stream.reset`. */
  readonly type: string;
  readonly data: string;
  /** The event's `id` (a cursor); `''` if it had none. */
  readonly id: string;
  readonly received: Date;
}

/** What the stream was asked for. */
export interface StreamContext {
  readonly channels: readonly string[];
  /** Whether the request had `envelope=1`. */
  readonly envelope: boolean;
}

/** The first event of a stream without a full cursor: its id is the starting cursor. */
export interface OpenRecord {
  readonly type: 'open';
  readonly id: string;
  readonly channels: readonly string[];
  readonly received: Date;
}

export interface EventRecord {
  readonly type: 'event';
  readonly id: string;
  /** `null` only when it cannot be known (several channels without an envelope). */
  readonly channel: string | null;
  readonly event: string;
  readonly data: string;
  /** When the event was stored (ISO 8601, from the envelope); `null` without envelope. */
  readonly time: string | null;
  readonly received: Date;
}

/** A `stream.reset` notice: the resume point could not be honoured on `channel`. */
export interface ResetRecord {
  readonly type: 'reset';
  readonly id: string;
  readonly channel: string | null;
  /** `expired` or `ahead` today; kept as text so a new reason still shows. */
  readonly reason: string | null;
  readonly missed: number | null;
  /** The notice's data as sent (JSON), for anything the fields above leave out. */
  readonly data: string;
  readonly received: Date;
}

export type TailRecord = OpenRecord | EventRecord | ResetRecord;

export const OPEN_EVENT = 'stream.open';
export const RESET_EVENT = 'stream.reset';

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const stringOr = <T>(value: unknown, fallback: T): string | T =>
  typeof value === 'string' ? value : fallback;

/**
 * Interprets one SSE message. With an envelope, the event's channel, name, data and time
 * come from its JSON data; without, the name is the SSE type and the channel is the only
 * one subscribed. Data that is not the envelope it should be is shown as it came rather
 * than dropped.
 */
export function toRecord(message: ReceivedMessage, context: StreamContext): TailRecord {
  const { type, data, id, received } = message;
  if (type === OPEN_EVENT) {
    const channels = parseObject(data)?.channels;
    return {
      type: 'open',
      id,
      channels:
        Array.isArray(channels) && channels.every((c) => typeof c === 'string')
          ? channels
          : [...context.channels],
      received,
    };
  }
  if (type === RESET_EVENT) {
    const notice = parseObject(data);
    return {
      type: 'reset',
      id,
      channel: stringOr(notice?.channel, null),
      reason: stringOr(notice?.reason, null),
      missed: typeof notice?.missed === 'number' ? notice.missed : null,
      data,
      received,
    };
  }
  const onlyChannel = context.channels.length === 1 ? (context.channels[0] ?? null) : null;
  if (context.envelope) {
    const envelope = parseObject(data);
    if (envelope !== undefined && typeof envelope.data === 'string') {
      return {
        type: 'event',
        id,
        channel: stringOr(envelope.channel, onlyChannel),
        event: stringOr(envelope.event, type),
        data: envelope.data,
        time: stringOr(envelope.time, null),
        received,
      };
    }
  }
  return { type: 'event', id, channel: onlyChannel, event: type, data, time: null, received };
}

/** One line of `--json` output (no trailing newline). Dates are ISO 8601 (UTC). */
export function formatJson(record: TailRecord): string {
  const received = record.received.toISOString();
  switch (record.type) {
    case 'open':
      return JSON.stringify({ type: 'open', id: record.id, channels: record.channels, received });
    case 'event':
      return JSON.stringify({
        type: 'event',
        id: record.id,
        channel: record.channel,
        event: record.event,
        data: record.data,
        time: record.time,
        received,
      });
    case 'reset':
      return JSON.stringify({
        type: 'reset',
        id: record.id,
        channel: record.channel,
        reason: record.reason,
        missed: record.missed,
        data: record.data,
        received,
      });
  }
}

export interface HumanFormatOptions {
  /** Show the channel column (with an envelope or several channels). */
  readonly showChannel: boolean;
  /** ANSI colours (a terminal that wants them). */
  readonly color: boolean;
}

type Style = 'dim' | 'bold' | 'cyan' | 'yellow' | 'red';
const ANSI: Record<Style, [string, string]> = {
  dim: ['\u001b[2m', '\u001b[22m'],
  bold: ['\u001b[1m', '\u001b[22m'],
  cyan: ['\u001b[36m', '\u001b[39m'],
  yellow: ['\u001b[33m', '\u001b[39m'],
  red: ['\u001b[31m', '\u001b[39m'],
};

function paint(color: boolean, style: Style, text: string): string {
  if (!color) return text;
  const [open, close] = ANSI[style];
  return `${open}${text}${close}`;
}

/** `HH:MM:SS.mmm` in local time. */
export function formatClock(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * A short, stable tag for an event id: `#` and 7 hex digits of its SHA-256. Ids are
 * opaque cursors over every channel of the stream, so no part of one (a suffix, say)
 * reliably tells two events apart; a digest does. The full id is in `--json` output
 * and printed when the tail stops, for `--from`.
 */
export function shortId(id: string): string {
  if (id === '') return '#-------';
  return `#${createHash('sha256').update(id).digest('hex').slice(0, 7)}`;
}

// Characters that would drive the terminal rather than show: C0 controls other than TAB
// and LF, DEL, C1 controls, and the bidirectional overrides and isolates that can make
// text display in an order other than its own.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes untrusted text (anyone who can publish chooses it) safe to print on a terminal:
 * escape sequences, bells and direction overrides are shown as `\xNN` / `\u{NNNN}`.
 */
export function sanitize(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.codePointAt(0) ?? 0;
    if (c === '\r') return '\\r';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** The lines of a payload as an SSE client sees them: CR, LF and CRLF each end a line. */
function lines(data: string): string[] {
  return data.split(/\r\n|\r|\n/);
}

/** Explains a `stream.reset` in words. */
export function describeReset(record: ResetRecord): string {
  if (record.reason === 'expired') {
    const missed =
      record.missed === null
        ? 'events were missed'
        : `${record.missed} event${record.missed === 1 ? '' : 's'} missed`;
    return `expired: ${missed} (they left retention); continuing from the oldest retained event`;
  }
  if (record.reason === 'ahead') {
    return 'ahead: the resume point is beyond the newest event; continuing from the newest';
  }
  return `${record.reason ?? 'unknown reason'}: ${record.data}`;
}

/**
 * An event or reset for the terminal, without trailing newline:
 *
 *     14:03:07.123  #1a2b3c4  orders/42  order.updated  {"status":"shipped"}
 *     14:03:08.001  #5d6e7f8  orders/42  message        first line
 *                                                       second line
 *     14:03:09.000  #9a8b7c6  !! stream.reset on orders/42: expired: 3 events missed …
 *
 * The time is when the event was stored when the envelope says so, else when it
 * arrived. The channel column is there with `showChannel`. A payload's further lines are
 * indented under its first, so they cannot pass for events of their own. `open` records
 * have no terminal line (`undefined`): the tail reports them on stderr.
 */
export function formatHuman(record: TailRecord, options: HumanFormatOptions): string | undefined {
  if (record.type === 'open') return undefined;
  const { color } = options;
  const time = record.type === 'event' && record.time !== null ? new Date(record.time) : undefined;
  const clock = formatClock(
    time !== undefined && !Number.isNaN(time.getTime()) ? time : record.received,
  );
  const head = `${clock}  ${shortId(record.id)}  `;
  const styledHead = paint(color, 'dim', head);

  if (record.type === 'reset') {
    const where = record.channel === null ? '' : ` on ${sanitize(record.channel)}`;
    return (
      styledHead +
      paint(color, 'yellow', `!! stream.reset${where}: ${sanitize(describeReset(record))}`)
    );
  }

  let prefix = head;
  let styled = styledHead;
  if (options.showChannel) {
    const channel = sanitize(record.channel ?? '?');
    prefix += `${channel}  `;
    styled += `${paint(color, 'cyan', channel)}  `;
  }
  const event = sanitize(record.event);
  prefix += `${event}  `;
  styled += `${paint(color, 'bold', event)}  `;

  if (record.data === '') return styled + paint(color, 'dim', '(empty)');
  const [first = '', ...rest] = lines(record.data).map(sanitize);
  const indent = ' '.repeat(prefix.length);
  return [styled + first, ...rest.map((line) => (line === '' ? '' : indent + line))].join('\n');
}

/**
 * The one line to show for an HTTP error answer: the contract's JSON error
 * `{"error":{"code","message"}}` as `HTTP 400 invalid_parameter: channel: …`, else the
 * start of whatever text came back.
 */
export function describeHttpError(status: number, body: string): string {
  const error = parseObject(body)?.error;
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as Record<string, unknown>;
    if (typeof message === 'string') {
      return sanitize(`HTTP ${status}${typeof code === 'string' ? ` ${code}` : ''}: ${message}`);
    }
  }
  const text = body.trim().replace(/\s+/g, ' ');
  if (text === '') return `HTTP ${status}`;
  return sanitize(`HTTP ${status}: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`);
}
