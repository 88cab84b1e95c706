/**
 * Subscriber tokens: what a backend service hands a browser or app so that it may read
 * private channels (DESIGN.md, "Access control"; docs/security.md). A token is an HS256
 * JWT signed with the stream function's secret (`AUTH_SECRET` locally, the secret behind
 * `AUTH_SECRET_ARN` in AWS), granting channels by exact name or `prefix*`, until `exp`.
 *
 * The stream ends itself when the token expires; the client then reconnects with a
 * fresh token and its last event id, losing nothing. So short lifetimes are cheap:
 * mint a token per connection, valid for minutes, not days.
 */
import { SignJWT } from 'jose';
import { channelPatternProblem } from '../functions/auth/channel-grants.js';
import {
  DEFAULT_AUDIENCE,
  MAX_TOKEN_LENGTH,
  MIN_SECRET_BYTES,
} from '../functions/auth/token-verifier.js';

/** Longest lifetime `signSubscriberToken` mints: a day (a leaked token lives this long). */
export const MAX_TOKEN_TTL_SECONDS = 86_400;

export interface SubscriberTokenOptions {
  /**
   * What the token grants: exact channel names (`orders/42`) and prefix patterns, a
   * channel-name prefix followed by one `*` (`user/7/*` grants `user/7/inbox`,
   * `user/7/x/y`). A bare `*` is refused.
   */
  readonly channels: readonly string[];
  /**
   * Lifetime: seconds (`900`), or a number with a unit: `s`, `m`, `h`, `d`
   * (`'15m'`, `'1h'`, `'90 s'`). At most {@link MAX_TOKEN_TTL_SECONDS}.
   */
  readonly ttl: number | string;
  /** The HS256 secret, at least 32 bytes: the same value the stream function verifies with. */
  readonly secret: string | Uint8Array;
  /** `aud`. @default 'sse-pubsub' (the stream function's default `AUTH_AUDIENCE`) */
  readonly audience?: string | undefined;
  /** `sub`: who the token is for, e.g. a user id. @default none */
  readonly subject?: string | undefined;
  /** `iss`. @default none */
  readonly issuer?: string | undefined;
}

/** Which option {@link signSubscriberToken} refused. */
export type TokenOption = 'channels' | 'ttl' | 'secret' | 'audience' | 'subject' | 'issuer';

/** `signSubscriberToken` was asked for a token the stream function would refuse. */
export class TokenOptionsError extends Error {
  override readonly name = 'TokenOptionsError';
  constructor(
    readonly option: TokenOption,
    message: string,
  ) {
    super(message);
  }
}

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86_400,
  day: 86_400,
  days: 86_400,
};

/**
 * A lifetime in whole seconds.
 * @throws TokenOptionsError when it is not a positive duration up to a day.
 */
export function ttlSeconds(ttl: number | string): number {
  let seconds: number;
  if (typeof ttl === 'number') {
    seconds = ttl;
  } else {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i.exec(ttl);
    const unit = match?.[2] === undefined ? 1 : UNIT_SECONDS[match[2].toLowerCase()];
    if (match?.[1] === undefined || unit === undefined) {
      throw new TokenOptionsError(
        'ttl',
        `ttl ${JSON.stringify(ttl)} is not a duration such as 900, '15m' or '1h'`,
      );
    }
    seconds = Number(match[1]) * unit;
  }
  seconds = Math.floor(seconds);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > MAX_TOKEN_TTL_SECONDS) {
    throw new TokenOptionsError(
      'ttl',
      `ttl must be from 1 second to ${MAX_TOKEN_TTL_SECONDS} seconds (a day), got ${JSON.stringify(ttl)}`,
    );
  }
  return seconds;
}

function secretBytes(secret: string | Uint8Array): Uint8Array {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (!(bytes instanceof Uint8Array)) {
    throw new TokenOptionsError('secret', 'secret must be a string or a Uint8Array');
  }
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    // The length only: the value is a secret.
    throw new TokenOptionsError(
      'secret',
      `secret must be at least ${MIN_SECRET_BYTES} bytes (HS256), got ${bytes.byteLength}`,
    );
  }
  return bytes;
}

function optionalText(option: TokenOption, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TokenOptionsError(option, `${option} must be a non-empty string when given`);
  }
  return value;
}

/**
 * Mints a subscriber token (HS256 JWT) with `iat`, `exp` = now + ttl, `aud`, `channels`
 * and, when given, `sub` and `iss`.
 *
 * ```ts
 * const token = await signSubscriberToken({
 *   channels: ['orders/42', 'user/7/*'],
 *   ttl: '15m',
 *   secret: process.env.AUTH_SECRET!,
 * });
 * // browser: new EventSource(`${streamUrl}/events?channel=user/7/inbox&token=${token}`)
 * ```
 * @throws TokenOptionsError (rejects) naming the option, before anything is signed.
 */
export async function signSubscriberToken(options: SubscriberTokenOptions): Promise<string> {
  const { channels } = options;
  if (!Array.isArray(channels) || channels.length === 0) {
    throw new TokenOptionsError('channels', 'channels must list at least one channel or pattern');
  }
  channels.forEach((pattern: unknown, index) => {
    const problem = channelPatternProblem(pattern);
    if (problem !== undefined) {
      throw new TokenOptionsError('channels', `channels[${index}]: ${problem}`);
    }
  });
  const lifetime = ttlSeconds(options.ttl);
  const key = secretBytes(options.secret);
  const audience = optionalText('audience', options.audience) ?? DEFAULT_AUDIENCE;
  const subject = optionalText('subject', options.subject);
  const issuer = optionalText('issuer', options.issuer);

  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ channels: [...new Set(channels)] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + lifetime)
    .setAudience(audience);
  if (subject !== undefined) jwt.setSubject(subject);
  if (issuer !== undefined) jwt.setIssuer(issuer);
  const token = await jwt.sign(key);
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new TokenOptionsError(
      'channels',
      `the token would be ${token.length} characters; the stream function accepts ${MAX_TOKEN_LENGTH}: grant fewer channels, or prefix patterns`,
    );
  }
  return token;
}
