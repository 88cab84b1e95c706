import { CHANNEL_PATTERN } from './contract.js';

/**
 * Cursors: the SSE `id` of every event and the poll endpoint's `cursor`.
 *
 * A cursor means "everything up to and including this event, on every channel of this
 * stream": it holds one position per channel. Clients only store it and send it back
 * (`Last-Event-ID`, `lastEventId`, `cursor`), so its form is ours to change; the
 * leading version lets a later form coexist with this one.
 *
 * Form (version 1): `1.` + base64url(JSON object channel → position). base64url keeps
 * it free of characters that need escaping in a header or a query string, and free of
 * CR/LF/NUL, which an SSE `id` cannot carry.
 */

export type Positions = ReadonlyMap<string, number>;

/** Where a subscription starts. */
export type ResumePoint =
  | { readonly kind: 'latest' }
  | { readonly kind: 'earliest' }
  | { readonly kind: 'cursor'; readonly positions: Positions };

const VERSION_PREFIX = '1.';

/** Longer than any cursor we issue for the channels a subscription may hold. */
export const MAX_CURSOR_LENGTH = 16_384;

/** A cursor that cannot be read: the client sent something we never issued. */
export class MalformedCursorError extends Error {
  override readonly name = 'MalformedCursorError';
}

export function encodeCursor(positions: Positions): string {
  const json = JSON.stringify(Object.fromEntries(positions));
  return VERSION_PREFIX + Buffer.from(json, 'utf8').toString('base64url');
}

/**
 * Reads a resume point as a client sends it. Absent or empty means "latest";
 * `earliest` is the oldest retained event; anything else must be a cursor we issued.
 * @throws MalformedCursorError naming what is wrong.
 */
export function parseResumePoint(raw: string | undefined): ResumePoint {
  if (raw === undefined || raw === '' || raw === 'latest') return { kind: 'latest' };
  if (raw === 'earliest') return { kind: 'earliest' };
  return { kind: 'cursor', positions: decodeCursor(raw) };
}

export function decodeCursor(raw: string): Positions {
  if (raw.length > MAX_CURSOR_LENGTH) {
    throw new MalformedCursorError(`cursor is longer than ${MAX_CURSOR_LENGTH} characters`);
  }
  if (!raw.startsWith(VERSION_PREFIX)) {
    throw new MalformedCursorError('cursor is not one this service issued (unknown version)');
  }
  const body = raw.slice(VERSION_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) {
    throw new MalformedCursorError('cursor is not base64url text');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new MalformedCursorError('cursor does not decode');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MalformedCursorError('cursor does not decode to channel positions');
  }
  const positions = new Map<string, number>();
  for (const [channel, position] of Object.entries(parsed)) {
    if (!CHANNEL_PATTERN.test(channel)) {
      throw new MalformedCursorError('cursor names an invalid channel');
    }
    if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) {
      throw new MalformedCursorError(`cursor holds an invalid position for channel ${channel}`);
    }
    positions.set(channel, position);
  }
  if (positions.size === 0) throw new MalformedCursorError('cursor holds no channel');
  return positions;
}
