/**
 * What a request may put into a log line, the same on every host: its id, method, path
 * and channels, bounded. Never the query string or a header, where tokens travel.
 */
import type { HttpRequest } from './http-types.js';

/** Bounds on what a request may put into a log line. */
const MAX_LOGGED_CHANNELS = 16;
const MAX_LOGGED_CHANNEL_LENGTH = 130;
const MAX_LOGGED_PATH_LENGTH = 200;

export function requestLogFields(request: HttpRequest, requestId: string): Record<string, unknown> {
  const all = request.query.getAll('channel');
  return {
    requestId,
    method: request.method,
    path: request.path.slice(0, MAX_LOGGED_PATH_LENGTH),
    channels: all.slice(0, MAX_LOGGED_CHANNELS).map((c) => c.slice(0, MAX_LOGGED_CHANNEL_LENGTH)),
    channelCount: all.length,
  };
}
