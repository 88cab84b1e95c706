/**
 * Verifies subscriber tokens (JWT, RFC 7519) with `jose`.
 *
 * Two kinds of issuer, chosen by the token's `alg` header before any key is touched:
 * - `HS256`: the shared secret (`AUTH_SECRET` / `AUTH_SECRET_ARN`) that backend services
 *   sign with through the publisher SDK (`signSubscriberToken`).
 * - `RS256` / `ES256`: an OIDC issuer's published keys (JWKS, `AUTH_JWKS_URL`), for
 *   tokens from Cognito, Auth0 and the like.
 * Every other `alg` (`none` included) is refused, and each kind is verified with its own
 * allow-list, so a token cannot steer an RSA public key into an HMAC check (the classic
 * HS/RS confusion): an `HS256` token only ever meets the secret.
 *
 * Claims: `exp` is required (a token that never expires is refused), `nbf` is honoured,
 * `aud` must hold the configured audience, `iss` must equal `AUTH_ISSUER` on JWKS tokens
 * when it is configured, `sub` is optional, `channels` lists the grants
 * (channel-grants.ts). No clock tolerance: the stream ends exactly at `exp`.
 *
 * Lifetime: a token may live at most `maxLifetimeSeconds` (`AUTH_MAX_TOKEN_LIFETIME_SECONDS`,
 * a day by default, the longest the publisher SDK mints). The SDK's own cap binds only
 * tokens it mints; this one binds every token, so one minted elsewhere, or with a leaked
 * secret, cannot grant access for years. `exp - iat` is judged when `iat` is present,
 * and `exp` must in any case be no further than the maximum from now (give or take
 * {@link LIFETIME_CLOCK_SKEW_SECONDS}), so leaving `iat` out, or dating it in the future,
 * does not evade the check.
 *
 * Errors never contain the token: {@link TokenError} messages are written for the
 * client (401 body) and name only what was wrong.
 */
import {
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyResult,
  jwtVerify,
} from 'jose';
import { DEPLOYMENT_DEFAULTS } from '../config/environment.js';
import { InvalidChannelsClaimError, parseChannelsClaim } from './channel-grants.js';

/** The `aud` every token must carry unless `AUTH_AUDIENCE` says otherwise. */
export const DEFAULT_AUDIENCE = 'sse-pubsub';
/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits). */
export const MIN_SECRET_BYTES = 32;
/**
 * Longest token accepted from any source. Far above a token with a few dozen grants
 * (about 300 bytes plus 20 per grant), and it bounds the work an attacker can cause.
 */
export const MAX_TOKEN_LENGTH = 8192;
/** Longest token lifetime accepted unless `AUTH_MAX_TOKEN_LIFETIME_SECONDS` says otherwise. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = DEPLOYMENT_DEFAULTS.authMaxTokenLifetimeSeconds;
/**
 * How far past "now + maximum" `exp` may lie. The issuer stamps `exp` from its own clock,
 * so a token minted for the full maximum by a host a moment ahead of ours would otherwise
 * be refused; `exp - iat` needs no allowance, both being the issuer's clock.
 */
export const LIFETIME_CLOCK_SKEW_SECONDS = 60;
/** Algorithms verified with the shared secret. */
export const SECRET_ALGORITHMS = ['HS256'] as const;
/** Algorithms verified with the issuer's JWKS. */
export const JWKS_ALGORITHMS = ['RS256', 'ES256'] as const;

/** What a token says, once verified. */
export interface VerifiedToken {
  /** Grant patterns from the `channels` claim (may be empty: grants nothing). */
  readonly channels: readonly string[];
  /** `exp`, in ms since the epoch. */
  readonly expiresAt: number;
  readonly subject?: string | undefined;
}

export type TokenProblem =
  | 'missing'
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'unknown_key'
  | 'expired'
  | 'not_yet_valid'
  | 'audience'
  | 'issuer'
  | 'lifetime_too_long'
  | 'claims';

/**
 * A token that does not authenticate anyone (answered with 401). The message is safe to
 * send to the client and to log: it never contains the token.
 */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    readonly problem: TokenProblem,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The issuer's JWKS could not be fetched or read: not the client's fault, so not a 401.
 * The router answers 500 and reports it through `onError`.
 */
export class AuthUnavailableError extends Error {
  override readonly name = 'AuthUnavailableError';
}

export interface TokenVerifierOptions {
  /** The HS256 secret; without it, HS256 tokens are refused. */
  readonly secret?: Uint8Array | undefined;
  /** An OIDC issuer's keys (jose `createRemoteJWKSet`); without it, RS256/ES256 are refused. */
  readonly jwks?: JWTVerifyGetKey | undefined;
  /** @default DEFAULT_AUDIENCE */
  readonly audience?: string | undefined;
  /** Required `iss` of JWKS tokens. @default not checked */
  readonly issuer?: string | undefined;
  /** Longest lifetime a token may have, whole seconds. @default DEFAULT_MAX_TOKEN_LIFETIME_SECONDS */
  readonly maxLifetimeSeconds?: number | undefined;
  /** ms since the epoch. @default Date.now */
  readonly clock?: (() => number) | undefined;
}

export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

/**
 * A verifier for the configured issuers.
 * @throws RangeError when the secret is short or `maxLifetimeSeconds` is not a positive integer.
 * @throws TokenError (rejects) for every token that does not verify.
 * @throws AuthUnavailableError (rejects) when the JWKS cannot be fetched.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const clock = options.clock ?? Date.now;
  const maxLifetimeSeconds = options.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  const { secret, issuer } = options;
  const jwks = options.jwks === undefined ? undefined : guardJwks(options.jwks);
  if (secret !== undefined && secret.byteLength < MIN_SECRET_BYTES) {
    throw new RangeError(`the HS256 secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (!Number.isSafeInteger(maxLifetimeSeconds) || maxLifetimeSeconds < 1) {
    throw new RangeError(
      `maxLifetimeSeconds must be a positive whole number of seconds, got ${maxLifetimeSeconds}`,
    );
  }

  return async (token) => {
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new TokenError('malformed', `token is longer than ${MAX_TOKEN_LENGTH} characters`);
    }
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new TokenError('malformed', 'token is not a JWT (header.payload.signature)');
    }
    const now = clock();
    const common = {
      audience,
      requiredClaims: ['exp'],
      currentDate: new Date(now),
    };
    let result: JWTVerifyResult;
    try {
      if (alg === 'HS256' && secret !== undefined) {
        result = await jwtVerify(token, secret, { ...common, algorithms: [...SECRET_ALGORITHMS] });
      } else if ((alg === 'RS256' || alg === 'ES256') && jwks !== undefined) {
        result = await jwtVerify(token, jwks, {
          ...common,
          algorithms: [...JWKS_ALGORITHMS],
          ...(issuer !== undefined && { issuer }),
        });
      } else {
        const shown = typeof alg === 'string' ? JSON.stringify(alg.slice(0, 20)) : 'missing';
        throw new TokenError('algorithm', `token algorithm ${shown} is not accepted`);
      }
    } catch (error) {
      throw explain(error, audience, issuer);
    }
    checkLifetime(result.payload, maxLifetimeSeconds, now);
    return verified(result.payload);
  };
}

/**
 * Refuses a token that lives longer than the maximum. Run after the signature check, so
 * only a token from a genuine issuer learns the limit. The message names the limit, not
 * the token's claims.
 */
function checkLifetime(payload: JWTPayload, maxSeconds: number, nowMs: number): void {
  // jose has checked that exp is a number, and iat too when present.
  const exp = payload.exp as number;
  const { iat } = payload;
  if (typeof iat === 'number' && exp - iat > maxSeconds) {
    throw new TokenError(
      'lifetime_too_long',
      `token lifetime (exp - iat) is longer than ${maxSeconds} seconds, the longest accepted`,
    );
  }
  if (exp * 1000 - nowMs > (maxSeconds + LIFETIME_CLOCK_SKEW_SECONDS) * 1000) {
    throw new TokenError(
      'lifetime_too_long',
      `token expires (exp) more than ${maxSeconds} seconds from now, the longest lifetime accepted`,
    );
  }
}

function verified(payload: JWTPayload): VerifiedToken {
  let channels: string[];
  try {
    channels = parseChannelsClaim(payload.channels);
  } catch (error) {
    if (error instanceof InvalidChannelsClaimError) throw new TokenError('claims', error.message);
    throw error;
  }
  // jose has checked that exp is present and a number.
  const expiresAt = (payload.exp as number) * 1000;
  return {
    channels,
    expiresAt,
    subject: typeof payload.sub === 'string' ? payload.sub : undefined,
  };
}

/** Lets only "no such key" through as a token problem; any other JWKS failure is ours. */
function guardJwks(jwks: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys
      ) {
        throw error;
      }
      throw new AuthUnavailableError('the token issuer’s keys (JWKS) could not be fetched', {
        cause: error,
      });
    }
  };
}

/** Turns what jose throws into a {@link TokenError} that says what was wrong. */
function explain(error: unknown, audience: string, issuer: string | undefined): unknown {
  if (error instanceof TokenError || error instanceof AuthUnavailableError) return error;
  if (error instanceof errors.JWTExpired) return new TokenError('expired', 'token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return new TokenError('not_yet_valid', 'token is not valid yet (nbf)');
      case 'aud':
        return new TokenError(
          'audience',
          `token audience (aud) is not ${JSON.stringify(audience)}`,
        );
      case 'iss':
        return new TokenError('issuer', `token issuer (iss) is not ${JSON.stringify(issuer)}`);
      case 'exp':
        return new TokenError('claims', 'token has no valid exp claim; tokens must expire');
      default:
        return new TokenError('claims', `token claim ${JSON.stringify(error.claim)} is invalid`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenError('signature', 'token signature is invalid');
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new TokenError('algorithm', 'token algorithm is not accepted');
  }
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return new TokenError('unknown_key', 'token is signed with a key the issuer does not publish');
  }
  if (error instanceof errors.JOSEError) {
    // JWSInvalid, JWTInvalid, JOSENotSupported, …: the token's own form.
    return new TokenError('malformed', 'token is malformed');
  }
  return error;
}
