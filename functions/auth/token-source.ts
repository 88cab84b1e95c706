/**
 * Where a request carries its token. First found wins:
 * 1. `Authorization: Bearer <token>` (RFC 6750 §2.1): fetch-based clients, servers.
 * 2. `?token=<token>` (RFC 6750 §2.3): the browser `EventSource`, which cannot set
 *    headers. The query string is never logged (adapters/lambda/http-adapter.ts, requestFields).
 * 3. The cookie named by `AUTH_COOKIE_NAME`: a same-site page that set an HttpOnly
 *    cookie, so the token stays out of URLs and scripts.
 *
 * An `Authorization` header of another scheme (`Basic …`, from a proxy) is not ours and
 * is passed over. Empty values count as absent.
 */
import type { HttpRequest } from '../http/http-types.js';
import { TokenError } from './token-verifier.js';

export type TokenSource = 'authorization' | 'query' | 'cookie';

export interface FoundToken {
  readonly token: string;
  readonly source: TokenSource;
}

/** RFC 6750 §2.1 `b64token`, which every JWT (base64url parts and dots) matches. */
const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;
const BEARER_SCHEME = /^Bearer(?:[ \t]|$)/i;

/**
 * The request's token, or `undefined` when it carries none.
 * @throws TokenError `malformed` for a Bearer header that is not `Bearer <token>`, or a
 * `token` parameter given more than once (which one was meant is anyone's guess).
 */
export function findToken(request: HttpRequest, cookieName: string): FoundToken | undefined {
  const authorization = request.headers.authorization;
  if (authorization !== undefined && BEARER_SCHEME.test(authorization.trim())) {
    const match = BEARER.exec(authorization.trim());
    if (match?.[1] === undefined) {
      throw new TokenError('malformed', 'Authorization header is not "Bearer <token>"');
    }
    return { token: match[1], source: 'authorization' };
  }

  const fromQuery = request.query.getAll('token').filter((t) => t !== '');
  if (fromQuery.length > 1) {
    throw new TokenError('malformed', 'token parameter is given more than once');
  }
  if (fromQuery[0] !== undefined) return { token: fromQuery[0], source: 'query' };

  const fromCookie = readCookie(request.headers.cookie, cookieName);
  if (fromCookie !== undefined && fromCookie !== '') return { token: fromCookie, source: 'cookie' };
  return undefined;
}

/**
 * The first cookie named `name` in a `Cookie` header (RFC 6265 §5.4: `name=value` pairs
 * separated by `; `; a value may be in double quotes). Values are not percent-decoded:
 * a JWT needs no escaping.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
      ? value.slice(1, -1)
      : value;
  }
  return undefined;
}
