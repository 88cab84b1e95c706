import { CHANNEL_PATTERN } from '../core/contract.js';
import { MalformedCursorError, parseResumePoint, type ResumePoint } from '../core/cursor.js';
import { quote } from '../core/quote.js';
import { HttpError, type HttpRequest } from './http-types.js';
import { MAX_QUERY_BYTES } from './subscribe-config.js';

/** What `/events` and `/poll` requests ask for, checked. */
export interface SubscribeRequest {
  readonly channels: string[];
  readonly resume: ResumePoint;
  readonly envelope: boolean;
  /** Long-poll wait (poll only), ms. */
  readonly waitMs: number;
}

export interface SubscribeLimits {
  /** Most channels one subscription may hold. */
  readonly maxChannels: number;
  /** Longest `wait` a poll may ask for, seconds. */
  readonly maxWaitSeconds: number;
  /** Longest query string, bytes. @default MAX_QUERY_BYTES */
  readonly maxQueryBytes?: number | undefined;
}

function invalid(parameter: string, message: string): HttpError {
  return new HttpError(400, 'invalid_parameter', `${parameter}: ${message}`);
}

function parseChannels(query: URLSearchParams, limits: SubscribeLimits): string[] {
  const channels = [...new Set(query.getAll('channel'))];
  if (channels.length === 0) {
    throw new HttpError(400, 'missing_parameter', 'channel: at least one channel is required');
  }
  if (channels.length > limits.maxChannels) {
    throw invalid(
      'channel',
      `at most ${limits.maxChannels} channels per subscription, got ${channels.length}`,
    );
  }
  for (const channel of channels) {
    if (!CHANNEL_PATTERN.test(channel)) {
      throw invalid('channel', `${quote(channel)} must match ${CHANNEL_PATTERN.source}`);
    }
  }
  return channels;
}

function parseFlag(query: URLSearchParams, name: string): boolean {
  const raw = query.get(name);
  if (raw === null || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true' || raw === '') return true;
  throw invalid(name, `must be 1 or 0, got ${quote(raw)}`);
}

function parseWait(query: URLSearchParams, limits: SubscribeLimits): number {
  const raw = query.get('wait');
  if (raw === null || raw === '') return 0;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || seconds > limits.maxWaitSeconds) {
    throw invalid(
      'wait',
      `must be a number of seconds from 0 to ${limits.maxWaitSeconds}, got ${quote(raw)}`,
    );
  }
  return Math.round(seconds * 1000);
}

/**
 * Reads a subscribe request. The resume point comes from, first found: the
 * `Last-Event-ID` header, the `lastEventId` parameter, the `cursor` parameter (poll),
 * else "latest".
 * @throws HttpError 400 naming the parameter; 414 when the query string is too long.
 */
export function parseSubscribeRequest(
  request: HttpRequest,
  limits: SubscribeLimits,
): SubscribeRequest {
  const { query } = request;
  // Re-encoded by URLSearchParams, so the length is of ASCII text.
  const queryBytes = query.toString().length;
  const maxQueryBytes = limits.maxQueryBytes ?? MAX_QUERY_BYTES;
  if (queryBytes > maxQueryBytes) {
    throw new HttpError(
      414,
      'uri_too_long',
      `query string is ${queryBytes} bytes; the limit is ${maxQueryBytes}`,
    );
  }
  const channels = parseChannels(query, limits);
  const sources: [string, string | null | undefined][] = [
    ['Last-Event-ID', request.headers['last-event-id']],
    ['lastEventId', query.get('lastEventId')],
    ['cursor', query.get('cursor')],
  ];
  const found = sources.find(([, value]) => value !== undefined && value !== null && value !== '');
  let resume: ResumePoint = { kind: 'latest' };
  if (found !== undefined) {
    const [name, value] = found;
    try {
      resume = parseResumePoint(value ?? undefined);
    } catch (error) {
      if (error instanceof MalformedCursorError) {
        throw new HttpError(400, 'malformed_cursor', `${name}: ${error.message}`);
      }
      throw error;
    }
  }
  return {
    channels,
    resume,
    envelope: parseFlag(query, 'envelope'),
    waitMs: parseWait(query, limits),
  };
}
