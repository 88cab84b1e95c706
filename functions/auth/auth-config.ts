/**
 * Access-control configuration from the environment (README, "Configuration"), read
 * once at cold start. Every error names the variable. It fails closed: private prefixes
 * without any way to verify a token is a configuration error, not an open door.
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | `AUTH_PRIVATE_PREFIXES` | none (all public) | comma-separated channel prefixes that need a token |
 * | `AUTH_SECRET` | none | HS256 secret, ≥ 32 bytes (local stack, tests) |
 * | `AUTH_SECRET_ARN` | none | Secrets Manager secret whose SecretString is the HS256 secret (AWS) |
 * | `AUTH_JWKS_URL` | none | an OIDC issuer's JWKS; RS256/ES256 tokens verify against it |
 * | `AUTH_ISSUER` | none | required `iss` of JWKS tokens (needs `AUTH_JWKS_URL`) |
 * | `AUTH_AUDIENCE` | `sse-pubsub` | required `aud` of every token |
 * | `AUTH_COOKIE_NAME` | `sse_token` | cookie read for a token |
 * | `AUTH_MAX_TOKEN_LIFETIME_SECONDS` | `86400` (a day) | longest token lifetime accepted, whole seconds |
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { ConfigError, type Env, list, optionalString, positiveInteger } from '../config/env.js';
import { DEPLOYMENT_DEFAULTS, ENV } from '../config/environment.js';
import { CHANNEL_PATTERN } from '../core/contract.js';
import type { Authorizer } from '../http/access.js';
import { createAuthorizer, DEFAULT_COOKIE_NAME } from './authorizer.js';
import { createTokenVerifier, DEFAULT_AUDIENCE, MIN_SECRET_BYTES } from './token-verifier.js';

/** How long a JWKS fetch may take before the request is answered 500. */
export const JWKS_TIMEOUT_MS = 5_000;

export interface AuthConfig {
  /** Channels starting with one of these need a token; empty: every channel is public. */
  readonly privatePrefixes: readonly string[];
  /** The HS256 secret given directly (`AUTH_SECRET`). */
  readonly secret?: Uint8Array | undefined;
  /** Where the HS256 secret is in AWS (`AUTH_SECRET_ARN`); fetched by the entry point. */
  readonly secretArn?: string | undefined;
  readonly jwksUrl?: URL | undefined;
  readonly issuer?: string | undefined;
  readonly audience: string;
  readonly cookieName: string;
  /** Tokens living longer than this, in seconds, are refused (token-verifier.ts). */
  readonly maxTokenLifetimeSeconds: number;
}

/** RFC 6265 §4.1.1 cookie-name: an RFC 9110 token. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The HS256 secret as bytes, checked for length.
 * @param source what to name in the error: the variable, or the secret's ARN.
 * @throws ConfigError when it is shorter than {@link MIN_SECRET_BYTES}.
 */
export function signingSecret(text: string, source: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    // The length only: the value is a secret.
    throw new ConfigError(
      `${source} must be at least ${MIN_SECRET_BYTES} bytes (HS256), got ${bytes.byteLength}`,
    );
  }
  return bytes;
}

export function readAuthConfig(env: Env): AuthConfig {
  const privatePrefixes = list(env, ENV.authPrivatePrefixes);
  for (const prefix of privatePrefixes) {
    // A non-empty prefix of a valid channel name is itself one.
    if (!CHANNEL_PATTERN.test(prefix)) {
      throw new ConfigError(
        `environment variable AUTH_PRIVATE_PREFIXES: ${JSON.stringify(prefix)} is not a channel-name prefix (${CHANNEL_PATTERN.source})`,
      );
    }
  }
  const secretText = optionalString(env, ENV.authSecret);
  const secretArn = optionalString(env, ENV.authSecretArn)?.trim();
  if (secretText !== undefined && secretArn !== undefined) {
    throw new ConfigError(
      'environment variables AUTH_SECRET and AUTH_SECRET_ARN are both set; set one',
    );
  }
  const secret =
    secretText === undefined
      ? undefined
      : signingSecret(secretText, 'environment variable AUTH_SECRET');

  const jwksText = optionalString(env, ENV.authJwksUrl)?.trim();
  let jwksUrl: URL | undefined;
  if (jwksText !== undefined) {
    jwksUrl = URL.canParse(jwksText) ? new URL(jwksText) : undefined;
    if (jwksUrl === undefined || !['https:', 'http:'].includes(jwksUrl.protocol)) {
      throw new ConfigError(
        `environment variable AUTH_JWKS_URL must be an http(s) URL, got ${JSON.stringify(jwksText)}`,
      );
    }
  }
  const issuer = optionalString(env, ENV.authIssuer)?.trim();
  if (issuer !== undefined && jwksUrl === undefined) {
    throw new ConfigError(
      'environment variable AUTH_ISSUER is set without AUTH_JWKS_URL; it applies to JWKS tokens only',
    );
  }

  const cookieName = optionalString(env, ENV.authCookieName)?.trim() ?? DEFAULT_COOKIE_NAME;
  if (!COOKIE_NAME.test(cookieName)) {
    throw new ConfigError(
      `environment variable AUTH_COOKIE_NAME must be a cookie name, got ${JSON.stringify(cookieName)}`,
    );
  }

  const maxTokenLifetimeSeconds = positiveInteger(
    env,
    ENV.authMaxTokenLifetimeSeconds,
    DEPLOYMENT_DEFAULTS.authMaxTokenLifetimeSeconds,
  );

  if (
    privatePrefixes.length > 0 &&
    secret === undefined &&
    secretArn === undefined &&
    jwksUrl === undefined
  ) {
    throw new ConfigError(
      'environment variable AUTH_PRIVATE_PREFIXES is set, but nothing verifies tokens: set AUTH_SECRET, AUTH_SECRET_ARN or AUTH_JWKS_URL',
    );
  }

  return {
    privatePrefixes,
    secret,
    secretArn,
    jwksUrl,
    issuer,
    audience: optionalString(env, ENV.authAudience)?.trim() ?? DEFAULT_AUDIENCE,
    cookieName,
    maxTokenLifetimeSeconds,
  };
}

export interface AuthorizerFromConfigOptions {
  /** The HS256 secret: `config.secret`, or what `AUTH_SECRET_ARN` holds. */
  readonly secret?: Uint8Array | undefined;
  /** @default Date.now */
  readonly clock?: () => number;
  /** @default jose `createRemoteJWKSet(config.jwksUrl)` */
  readonly jwks?: JWTVerifyGetKey | undefined;
}

/**
 * The authorizer the configuration asks for, or `undefined` when every channel is
 * public. The JWKS, when configured, is fetched on first use, cached (10 min) and
 * re-fetched when a token names an unknown key (at most every 30 s).
 */
export function authorizerFromConfig(
  config: AuthConfig,
  options: AuthorizerFromConfigOptions = {},
): Authorizer | undefined {
  if (config.privatePrefixes.length === 0) return undefined;
  const secret = options.secret ?? config.secret;
  const jwks =
    options.jwks ??
    (config.jwksUrl === undefined
      ? undefined
      : createRemoteJWKSet(config.jwksUrl, { timeoutDuration: JWKS_TIMEOUT_MS }));
  if (secret === undefined && jwks === undefined) {
    throw new ConfigError(
      'AUTH_PRIVATE_PREFIXES is set, but nothing verifies tokens: the HS256 secret was not provided',
    );
  }
  return createAuthorizer({
    privatePrefixes: config.privatePrefixes,
    cookieName: config.cookieName,
    verify: createTokenVerifier({
      secret,
      jwks,
      audience: config.audience,
      issuer: config.issuer,
      maxLifetimeSeconds: config.maxTokenLifetimeSeconds,
      clock: options.clock,
    }),
  });
}
