/**
 * The longest lifetime a token may have, enforced where tokens are verified: a token
 * minted outside the publisher SDK (or with a leaked secret) cannot grant access for
 * longer than AUTH_MAX_TOKEN_LIFETIME_SECONDS, with or without `iat`.
 */
import { generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { authorizerFromConfig, readAuthConfig } from '../../../../functions/auth/auth-config.js';
import {
  createTokenVerifier,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  LIFETIME_CLOCK_SKEW_SECONDS,
  TokenError,
} from '../../../../functions/auth/token-verifier.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import { PollingFeed } from '../../../../functions/core/polling-feed.js';
import type { HttpRequest, HttpResponse } from '../../../../functions/http/http-types.js';
import { createRouter } from '../../../../functions/http/router.js';
import { DEFAULT_SUBSCRIBE_CONFIG } from '../../../../functions/http/subscribe-config.js';
import { MAX_TOKEN_TTL_SECONDS, signSubscriberToken } from '../../../../publisher/tokens.js';

const SECRET_TEXT = 'test-secret-of-at-least-32-bytes-0123456789';
const SECRET = new TextEncoder().encode(SECRET_TEXT);
const OTHER_SECRET = new TextEncoder().encode('another-secret-of-at-least-32-bytes-xyz');
const DAY = 86_400;
const YEAR = 365 * DAY;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** An HS256 token with exactly these claims (defaults: grants private/a, no iat). */
async function hs256(claims: JWTPayload, key: Uint8Array = SECRET): Promise<string> {
  return new SignJWT({ aud: 'sse-pubsub', channels: ['private/a'], ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(key);
}

function request(url: string): HttpRequest {
  const parsed = new URL(url, 'http://localhost');
  return { method: 'GET', path: parsed.pathname, query: parsed.searchParams, headers: {} };
}

/** The routes as the functions compose them: access control read from the environment. */
function routeWith(env: Record<string, string> = {}) {
  const log = new MemoryEventLog();
  return createRouter({
    config: DEFAULT_SUBSCRIBE_CONFIG,
    feed: () => new PollingFeed(log, { minMs: 10, maxMs: 20 }),
    clock: Date.now,
    random: () => 0,
    authorize: authorizerFromConfig(
      readAuthConfig({ AUTH_PRIVATE_PREFIXES: 'private/', AUTH_SECRET: SECRET_TEXT, ...env }),
    ),
  });
}

async function poll(token: string, env?: Record<string, string>): Promise<HttpResponse> {
  return routeWith(env)(request(`/poll?channel=private/a&token=${token}`));
}

function errorOf(response: HttpResponse): { status: number; code: string; message: string } {
  if (response.kind !== 'json') throw new Error(`expected a JSON error, got ${response.kind}`);
  const body = response.body as { error: { code: string; message: string } };
  return { status: response.status, code: body.error.code, message: body.error.message };
}

describe('Token lifetime (through createRouter)', () => {
  it.each<[string, () => JWTPayload, string]>([
    [
      'exp ten years after iat',
      () => ({ iat: nowSeconds(), exp: nowSeconds() + 10 * YEAR }),
      'token lifetime (exp - iat) is longer than 86400 seconds',
    ],
    [
      'exp ten years away and no iat',
      () => ({ exp: nowSeconds() + 10 * YEAR }),
      'token expires (exp) more than 86400 seconds from now',
    ],
    [
      'exp ten years away with iat dated just before it',
      () => ({ iat: nowSeconds() + 10 * YEAR - 600, exp: nowSeconds() + 10 * YEAR }),
      'token expires (exp) more than 86400 seconds from now',
    ],
    [
      'a short time left, but exp - iat over the limit (iat back-dated)',
      () => ({ iat: nowSeconds() - 2 * DAY, exp: nowSeconds() + 600 }),
      'token lifetime (exp - iat) is longer than 86400 seconds',
    ],
  ])('refuses %s with 401 invalid_token, naming the limit', async (_name, claims, message) => {
    // Prepare
    const token = await hs256(claims());

    // Act
    const response = await poll(token);

    // Assess
    expect(errorOf(response)).toEqual({
      status: 401,
      code: 'unauthorized',
      message: expect.any(String),
    });
    expect(errorOf(response).message).toContain(message);
    expect(errorOf(response).message).not.toContain(token);
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('refuses the stream route the same way', async () => {
    const token = await hs256({ exp: nowSeconds() + YEAR });
    const response = await routeWith()(request(`/events?channel=private/a&token=${token}`));
    expect(errorOf(response).status).toBe(401);
  });

  it('opens for a token of exactly the maximum lifetime', async () => {
    const iat = nowSeconds();
    const token = await hs256({ iat, exp: iat + DEFAULT_MAX_TOKEN_LIFETIME_SECONDS });
    const response = await routeWith()(request(`/events?channel=private/a&token=${token}`));
    expect(response.kind).toBe('stream');
    expect(response.status).toBe(200);
  });

  it('accepts the longest token the publisher SDK mints', async () => {
    expect(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS).toBe(MAX_TOKEN_TTL_SECONDS);
    const token = await signSubscriberToken({
      channels: ['private/a'],
      ttl: MAX_TOKEN_TTL_SECONDS,
      secret: SECRET_TEXT,
    });
    expect((await poll(token)).status).toBe(200);
  });

  it('allows exp a little past the maximum from now (the issuer’s clock may run ahead), not more', async () => {
    const limit = DEFAULT_MAX_TOKEN_LIFETIME_SECONDS + LIFETIME_CLOCK_SKEW_SECONDS;
    expect((await poll(await hs256({ exp: nowSeconds() + limit - 5 }))).status).toBe(200);
    expect((await poll(await hs256({ exp: nowSeconds() + limit + 5 }))).status).toBe(401);
  });

  it('follows AUTH_MAX_TOKEN_LIFETIME_SECONDS', async () => {
    // Prepare
    const env = { AUTH_MAX_TOKEN_LIFETIME_SECONDS: '600' };
    const iat = nowSeconds();

    // Act
    const within = await poll(await hs256({ iat, exp: iat + 600 }), env);
    const over = await poll(await hs256({ iat, exp: iat + 601 }), env);
    const longButAllowed = await poll(await hs256({ iat, exp: iat + 2 * DAY }), {
      AUTH_MAX_TOKEN_LIFETIME_SECONDS: String(7 * DAY),
    });

    // Assess
    expect(within.status).toBe(200);
    expect(errorOf(over).status).toBe(401);
    expect(errorOf(over).message).toContain('longer than 600 seconds');
    expect(longButAllowed.status).toBe(200);
  });
});

describe('Function: createTokenVerifier (lifetime)', () => {
  it('refuses with the lifetime_too_long problem', async () => {
    const verify = createTokenVerifier({ secret: SECRET, maxLifetimeSeconds: 60 });
    const iat = nowSeconds();
    await expect(verify(await hs256({ iat, exp: iat + 61 }))).rejects.toThrow(TokenError);
    await expect(verify(await hs256({ iat, exp: iat + 61 }))).rejects.toMatchObject({
      problem: 'lifetime_too_long',
    });
    await expect(verify(await hs256({ iat, exp: iat + 60 }))).resolves.toMatchObject({
      expiresAt: (iat + 60) * 1000,
    });
  });

  it('judges "now" by its clock', async () => {
    const exp = nowSeconds() + 10 * DAY;
    const token = await hs256({ exp });
    const verifyAt = (ms: number) =>
      createTokenVerifier({ secret: SECRET, clock: () => ms })(token);
    await expect(verifyAt(Date.now())).rejects.toMatchObject({ problem: 'lifetime_too_long' });
    await expect(verifyAt((exp - DAY) * 1000)).resolves.toMatchObject({ expiresAt: exp * 1000 });
  });

  it('checks the signature first: a forged long-lived token learns nothing of the limit', async () => {
    const verify = createTokenVerifier({ secret: SECRET });
    const claims = { exp: nowSeconds() + YEAR };
    await expect(verify(await hs256(claims, OTHER_SECRET))).rejects.toMatchObject({
      problem: 'signature',
    });
    await expect(verify(await hs256(claims))).rejects.toMatchObject({
      problem: 'lifetime_too_long',
    });
  });

  it('bounds JWKS (RS256) tokens too', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const verify = createTokenVerifier({ jwks: async () => publicKey });
    const token = await new SignJWT({ aud: 'sse-pubsub', channels: ['a'] })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuedAt()
      .setExpirationTime('30d')
      .sign(privateKey);
    await expect(verify(token)).rejects.toMatchObject({ problem: 'lifetime_too_long' });
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses maxLifetimeSeconds %s',
    (maxLifetimeSeconds) => {
      expect(() => createTokenVerifier({ secret: SECRET, maxLifetimeSeconds })).toThrow(
        'maxLifetimeSeconds must be a positive whole number of seconds',
      );
    },
  );
});
