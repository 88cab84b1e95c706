import { Duration, type RemovalPolicy, Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { DEPLOYMENT_DEFAULTS, ENV } from '../functions/config/environment.js';
import { CHANNEL_PATTERN } from '../functions/core/contract.js';
import { SsePubSubConfigError } from './errors.js';

/** Length of the generated token secret: 64 letters and digits, about 380 bits. */
export const TOKEN_SECRET_LENGTH = 64;

/**
 * Longest lifetime of a token the stream function accepts unless `maxTokenLifetime` says
 * otherwise: a day, the longest the publisher SDK mints.
 */
export const DEFAULT_MAX_TOKEN_LIFETIME = Duration.seconds(
  DEPLOYMENT_DEFAULTS.authMaxTokenLifetimeSeconds,
);

/** An OpenID Connect issuer whose RS256/ES256 tokens subscribers may present. */
export interface SsePubSubJwksProps {
  /** The issuer's JSON Web Key Set URL (`https://issuer.example.com/.well-known/jwks.json`). */
  readonly url: string;
  /**
   * The `iss` these tokens must carry.
   *
   * @default - any issuer
   */
  readonly issuer?: string;
  /**
   * The `aud` every token must carry; the same as `auth.audience` (set one of them).
   *
   * @default - `auth.audience`
   */
  readonly audience?: string;
}

/** Which channels need a token, and how tokens are checked. */
export interface SsePubSubAuthProps {
  /**
   * Channels whose name starts with one of these prefixes are private: subscribers need
   * a token that grants them. Every other channel is public. At least one prefix.
   */
  readonly privateChannelPrefixes: string[];
  /**
   * The HS256 secret backend services sign subscriber tokens with
   * (`signSubscriberToken` in the publisher SDK) and the stream function verifies
   * them with. Its `SecretString` is the secret itself, at least 32 bytes.
   *
   * @default - a generated 64-character secret, unless `jwks` is set: then tokens come
   * from the identity provider only, and there is no HS256 secret unless given here
   */
  readonly secret?: secretsmanager.ISecret;
  /**
   * Also (or only) accept tokens from an OpenID Connect identity provider.
   *
   * @default - HS256 tokens only
   */
  readonly jwks?: SsePubSubJwksProps;
  /**
   * The `aud` every token must carry.
   *
   * @default - `jwks.audience`, else the function's default, `sse-pubsub`
   */
  readonly audience?: string;
  /**
   * Longest lifetime of a token the stream function accepts, whatever signed it: a token
   * whose `exp` lies further than this after its `iat`, or after now, is refused (401).
   * It bounds how long a token minted outside the publisher SDK, or with a leaked
   * secret, grants access. Whole seconds, at least 1 second.
   *
   * @default Duration.days(1) - the longest TTL `signSubscriberToken` mints
   */
  readonly maxTokenLifetime?: Duration;
}

/** What the stream function needs for access control. */
export interface StreamAuth {
  /** `AUTH_*` variables of the stream function. */
  readonly environment: Record<string, string>;
  /** The HS256 secret, if tokens are signed with one. */
  readonly secret: secretsmanager.ISecret | undefined;
}

/**
 * Validates the auth props and creates the token secret when one is needed.
 * Variable names are those `readAuthConfig` (functions/auth/auth-config.ts) reads.
 */
export function streamAuth(
  scope: Construct,
  auth: SsePubSubAuthProps,
  removalPolicy: RemovalPolicy,
): StreamAuth {
  const prefixes = auth.privateChannelPrefixes;
  if (prefixes.length === 0) {
    throw new SsePubSubConfigError(
      'SsePubSub: auth.privateChannelPrefixes needs at least one prefix; leave auth out to keep every channel public',
    );
  }
  for (const prefix of prefixes) {
    // A non-empty prefix of a valid channel name is itself one; commas cannot occur.
    if (!Token.isUnresolved(prefix) && !CHANNEL_PATTERN.test(prefix)) {
      throw new SsePubSubConfigError(
        `SsePubSub: auth.privateChannelPrefixes entries must be channel-name prefixes (${CHANNEL_PATTERN.source}), got ${JSON.stringify(prefix)}`,
      );
    }
  }

  const jwks = auth.jwks;
  if (jwks !== undefined && !Token.isUnresolved(jwks.url)) {
    const url = URL.canParse(jwks.url) ? new URL(jwks.url) : undefined;
    if (url?.protocol !== 'https:') {
      throw new SsePubSubConfigError(
        `SsePubSub: auth.jwks.url must be an https URL, got ${JSON.stringify(jwks.url)}`,
      );
    }
  }
  if (
    auth.audience !== undefined &&
    jwks?.audience !== undefined &&
    auth.audience !== jwks.audience
  ) {
    throw new SsePubSubConfigError(
      `SsePubSub: auth.audience (${JSON.stringify(auth.audience)}) and auth.jwks.audience ` +
        `(${JSON.stringify(jwks.audience)}) differ; the stream function checks one audience on every token`,
    );
  }
  const audience = auth.audience ?? jwks?.audience;
  for (const [prop, value] of [
    ['auth.audience', audience],
    ['auth.jwks.issuer', jwks?.issuer],
  ] as const) {
    if (value !== undefined && value.trim() === '') {
      throw new SsePubSubConfigError(`SsePubSub: ${prop} must not be empty`);
    }
  }

  const maxTokenLifetimeSeconds = maxTokenLifetimeSetting(auth.maxTokenLifetime);

  const secret =
    auth.secret ??
    (jwks === undefined
      ? new secretsmanager.Secret(scope, 'TokenSecret', {
          description:
            'SSE pub/sub: HS256 key of subscriber tokens. Backend services sign with it, the stream function verifies with it.',
          generateSecretString: {
            passwordLength: TOKEN_SECRET_LENGTH,
            excludePunctuation: true,
            includeSpace: false,
          },
          removalPolicy,
        })
      : undefined);

  return {
    secret,
    environment: {
      [ENV.authPrivatePrefixes]: prefixes.join(','),
      ...(secret !== undefined && { [ENV.authSecretArn]: secret.secretArn }),
      ...(jwks !== undefined && { [ENV.authJwksUrl]: jwks.url }),
      ...(jwks?.issuer !== undefined && { [ENV.authIssuer]: jwks.issuer }),
      ...(audience !== undefined && { [ENV.authAudience]: audience }),
      [ENV.authMaxTokenLifetimeSeconds]: String(maxTokenLifetimeSeconds),
    },
  };
}

/** `auth.maxTokenLifetime` in seconds: whole, at least 1, as `readAuthConfig` requires. */
function maxTokenLifetimeSetting(lifetime: Duration | undefined): number {
  const seconds = (lifetime ?? DEFAULT_MAX_TOKEN_LIFETIME).toSeconds({ integral: false });
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw new SsePubSubConfigError(
      `SsePubSub: auth.maxTokenLifetime must be whole seconds, at least 1 second, got ${seconds} seconds`,
    );
  }
  return seconds;
}

/**
 * What IAM policies name to grant a secret: Secrets Manager appends six random
 * characters to a secret's name in its ARN, so a secret known only by name or partial
 * ARN is matched with `-??????`, as aws-cdk-lib's own grants do.
 */
export function secretPolicyArn(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}
