import type { HttpHeaders, HttpRequest } from './http-types.js';

/** Allowed browser origins: a list, or `*` for any. An empty list allows none. */
export type CorsOrigins = '*' | readonly string[];

/**
 * CORS headers for a response. EventSource sends a simple GET (no preflight) unless
 * it must carry headers such as `Authorization`; a reconnect only needs
 * `Access-Control-Allow-Origin` on the GET. Credentials (the token cookie) are allowed
 * for listed origins only, never with `*`.
 */
export function corsHeaders(request: HttpRequest, origins: CorsOrigins): HttpHeaders {
  const origin = request.headers.origin;
  if (origins === '*') return { 'access-control-allow-origin': '*' };
  if (origin !== undefined && origins.includes(origin)) {
    // A listed origin may send the token cookie (`new EventSource(url, { withCredentials: true })`).
    return {
      'access-control-allow-origin': origin,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    };
  }
  return {};
}

export function preflightHeaders(request: HttpRequest, origins: CorsOrigins): HttpHeaders {
  const allow = corsHeaders(request, origins);
  if (Object.keys(allow).length === 0) return {};
  return {
    ...allow,
    'access-control-allow-methods': 'GET, OPTIONS',
    'access-control-allow-headers': 'Authorization, Last-Event-ID, Cache-Control',
    'access-control-max-age': '600',
  };
}
