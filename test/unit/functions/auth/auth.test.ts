/**
 * Access control through the routes: which tokens open which channels, and the 401/403
 * JSON answers (before any stream byte) for every way a token can be wrong.
 */
import { createHmac } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fetchSigningSecret } from '../../../../functions/adapters/secrets-manager/signing-secret.js';
import {
  authorizerFromConfig,
  readAuthConfig,
  signingSecret,
} from '../../../../functions/auth/auth-config.js';
import { createAuthorizer } from '../../../../functions/auth/authorizer.js';
import {
  channelPatternProblem,
  grantsChannel,
  isPrivateChannel,
  parseChannelsClaim,
} from '../../../../functions/auth/channel-grants.js';
import { readCookie } from '../../../../functions/auth/token-source.js';
import {
  createTokenVerifier,
  MAX_TOKEN_LENGTH,
  TokenError,
} from '../../../../functions/auth/token-verifier.js';
import { ConfigError } from '../../../../functions/config/env.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import { PollingFeed } from '../../../../functions/core/polling-feed.js';
import type { Authorizer } from '../../../../functions/http/access.js';
import type { HttpRequest, HttpResponse } from '../../../../functions/http/http-types.js';
import { createRouter } from '../../../../functions/http/router.js';
import { DEFAULT_SUBSCRIBE_CONFIG } from '../../../../functions/http/subscribe-config.js';

const SECRET_TEXT = 'test-secret-of-at-least-32-bytes-0123456789';
const SECRET = new TextEncoder().encode(SECRET_TEXT);
const OTHER_SECRET = new TextEncoder().encode('another-secret-of-at-least-32-bytes-xyz');
const nowSeconds = () => Math.floor(Date.now() / 1000);

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** An HS256 token with exactly these claims (defaults: valid for 10 min, grants private/a). */
async function hs256(claims: JWTPayload = {}, key: Uint8Array = SECRET): Promise<string> {
  return new SignJWT({
    aud: 'sse-pubsub',
    exp: nowSeconds() + 600,
    channels: ['private/a'],
    ...claims,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(key);
}

/** An unsecured JWT (RFC 7519 §6), built by hand: jose refuses to make one for us. */
function unsecured(claims: JWTPayload = {}, signature = ''): string {
  const payload = {
    aud: 'sse-pubsub',
    exp: nowSeconds() + 600,
    channels: ['private/a'],
    ...claims,
  };
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.${signature}`;
}

/** A correctly signed HS256 JWS over any JSON payload, made without jose's checks. */
function signedRaw(header: unknown, payload: unknown): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

function request(url: string, headers: Record<string, string> = {}): HttpRequest {
  const parsed = new URL(url, 'http://localhost');
  return { method: 'GET', path: parsed.pathname, query: parsed.searchParams, headers };
}

function routeWith(authorize: Authorizer | undefined, onError?: (error: unknown) => void) {
  const log = new MemoryEventLog();
  return createRouter({
    config: { ...DEFAULT_SUBSCRIBE_CONFIG, corsOrigins: ['https://app.example'] },
    feed: () => new PollingFeed(log, { minMs: 10, maxMs: 20 }),
    clock: Date.now,
    random: () => 0,
    authorize,
    onError,
  });
}

const hsAuthorizer = () =>
  createAuthorizer({
    privatePrefixes: ['private/', 'user/'],
    verify: createTokenVerifier({ secret: SECRET }),
  });

function errorOf(response: HttpResponse): { status: number; code: string; message: string } {
  // A JSON answer: the router never opened a stream, so no stream byte was written.
  if (response.kind !== 'json') throw new Error(`expected a JSON error, got ${response.kind}`);
  const body = response.body as { error: { code: string; message: string } };
  return { status: response.status, code: body.error.code, message: body.error.message };
}

describe('Function: channelPatternProblem', () => {
  it.each([
    'orders',
    'orders/42',
    'a*',
    'user/7/*',
    'a',
    `${'x'.repeat(128)}`,
    `${'x'.repeat(128)}*`,
  ])('accepts %j', (pattern) => {
    expect(channelPatternProblem(pattern)).toBeUndefined();
  });

  it.each([
    ['*', 'bare "*"'],
    ['**', 'must be a channel name'],
    ['a*b', 'must be a channel name'],
    ['a**', 'must be a channel name'],
    ['*a', 'must be a channel name'],
    ['', 'must be a channel name'],
    ['/a*', 'must be a channel name'],
    ['a b', 'must be a channel name'],
    [`${'x'.repeat(129)}`, 'must be a channel name'],
    [42, 'must be a string'],
  ])('refuses %j', (pattern, message) => {
    expect(channelPatternProblem(pattern)).toContain(message);
  });
});

describe('Function: grantsChannel', () => {
  it.each([
    [['a*'], 'a', true],
    [['a*'], 'ab', true],
    [['a*'], 'a/b', true],
    [['a*'], 'b', false],
    [['a*'], 'ba', false],
    [['user/7/*'], 'user/7/inbox', true],
    [['user/7/*'], 'user/7', false],
    [['user/7/*'], 'user/70/inbox', false],
    [['user/7*'], 'user/70/inbox', true],
    [['orders/42'], 'orders/42', true],
    [['orders/42'], 'orders/421', false],
    [['orders/42'], 'orders/4', false],
    [['orders/42'], 'Orders/42', false],
    [[], 'a', false],
    [['x', 'y*'], 'yes', true],
  ])('%j grants %j: %s', (patterns, channel, granted) => {
    expect(grantsChannel(patterns, channel)).toBe(granted);
  });
});

describe('Function: isPrivateChannel', () => {
  it('is a plain prefix match', () => {
    expect(isPrivateChannel(['private/'], 'private/a')).toBe(true);
    expect(isPrivateChannel(['private/'], 'private')).toBe(false);
    expect(isPrivateChannel(['private/'], 'privateer')).toBe(false);
    expect(isPrivateChannel(['user'], 'username')).toBe(true);
    expect(isPrivateChannel([], 'private/a')).toBe(false);
  });
});

describe('Function: parseChannelsClaim', () => {
  it('reads an array, a space-separated string, or nothing', () => {
    expect(parseChannelsClaim(['a', 'b*'])).toEqual(['a', 'b*']);
    expect(parseChannelsClaim(' a  b* ')).toEqual(['a', 'b*']);
    expect(parseChannelsClaim(undefined)).toEqual([]);
  });

  it.each([[{ a: 1 }], [['a', 7]], [['*']], [42]])('refuses %j', (claim) => {
    expect(() => parseChannelsClaim(claim)).toThrow(/channels claim/);
  });
});

describe('Function: readCookie', () => {
  it('finds the named cookie among others, quoted or not', () => {
    expect(readCookie('a=1; sse_token=abc.def.ghi; b=2', 'sse_token')).toBe('abc.def.ghi');
    expect(readCookie('sse_token="abc"', 'sse_token')).toBe('abc');
    expect(readCookie('xsse_token=abc', 'sse_token')).toBeUndefined();
    expect(readCookie('sse_token', 'sse_token')).toBeUndefined();
    expect(readCookie(undefined, 'sse_token')).toBeUndefined();
    expect(readCookie('a=1;sse_token=first;sse_token=second', 'sse_token')).toBe('first');
  });
});

describe('Function: createAuthorizer (through createRouter)', () => {
  const route = (req: HttpRequest) => routeWith(hsAuthorizer())(req);

  describe('refusals: JSON error, no stream', () => {
    const cases: [string, 401 | 403, string, () => Promise<HttpRequest>][] = [
      [
        'no token',
        401,
        'a token is required for private channel "private/a"',
        async () => request('/events?channel=private/a'),
      ],
      [
        'a bad signature',
        401,
        'token signature is invalid',
        async () => request(`/events?channel=private/a&token=${await hs256({}, OTHER_SECRET)}`),
      ],
      [
        'alg none, no signature',
        401,
        'token algorithm "none" is not accepted',
        async () => request(`/events?channel=private/a&token=${unsecured()}`),
      ],
      [
        'alg none, with a signature part',
        401,
        'token algorithm "none" is not accepted',
        async () => request(`/events?channel=private/a&token=${unsecured({}, 'c2lnbmF0dXJl')}`),
      ],
      [
        'alg None (case games)',
        401,
        'token algorithm "None" is not accepted',
        async () =>
          request(
            `/events?channel=private/a&token=${b64({ alg: 'None' })}.${b64({ exp: nowSeconds() + 60 })}.`,
          ),
      ],
      [
        'an expired token',
        401,
        'token has expired',
        async () =>
          request(`/events?channel=private/a&token=${await hs256({ exp: nowSeconds() - 5 })}`),
      ],
      [
        'a token not valid yet',
        401,
        'token is not valid yet (nbf)',
        async () =>
          request(`/events?channel=private/a&token=${await hs256({ nbf: nowSeconds() + 300 })}`),
      ],
      [
        'a wrong audience',
        401,
        'token audience (aud) is not "sse-pubsub"',
        async () => request(`/events?channel=private/a&token=${await hs256({ aud: 'other-app' })}`),
      ],
      [
        'no audience',
        401,
        'token audience (aud) is not "sse-pubsub"',
        async () => request(`/events?channel=private/a&token=${await hs256({ aud: undefined })}`),
      ],
      [
        'no exp',
        401,
        'token has no valid exp claim',
        async () => request(`/events?channel=private/a&token=${await hs256({ exp: undefined })}`),
      ],
      [
        'a string exp',
        401,
        'token has no valid exp claim',
        async () =>
          request(`/events?channel=private/a&token=${await hs256({ exp: 'tomorrow' as never })}`),
      ],
      [
        'a bare * grant',
        401,
        'channels claim: a bare "*"',
        async () => request(`/events?channel=private/a&token=${await hs256({ channels: ['*'] })}`),
      ],
      [
        'a channels claim of the wrong type',
        401,
        'channels claim must be an array',
        async () =>
          request(`/events?channel=private/a&token=${await hs256({ channels: { a: true } })}`),
      ],
      [
        'not a JWT',
        401,
        'token is not a JWT',
        async () => request('/events?channel=private/a&token=hello'),
      ],
      [
        'a well-signed JWT whose payload is not a claims object',
        401,
        'token is malformed',
        async () =>
          request(`/events?channel=private/a&token=${signedRaw({ alg: 'HS256' }, [1, 2])}`),
      ],
      [
        'a token over the length limit',
        401,
        `token is longer than ${MAX_TOKEN_LENGTH} characters`,
        async () =>
          request('/events?channel=private/a', {
            authorization: `Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`,
          }),
      ],
      [
        'a Bearer header without a token',
        401,
        'Authorization header is not "Bearer <token>"',
        async () => request('/events?channel=private/a', { authorization: 'Bearer ' }),
      ],
      [
        'a Basic header (not ours), nothing else',
        401,
        'a token is required',
        async () => request('/events?channel=private/a', { authorization: 'Basic dXNlcjpwYXNz' }),
      ],
      [
        'the token parameter twice',
        401,
        'token parameter is given more than once',
        async () => {
          const t = await hs256();
          return request(`/events?channel=private/a&token=${t}&token=${t}`);
        },
      ],
      [
        'an RS256 token when no JWKS is configured',
        401,
        'token algorithm "RS256" is not accepted',
        async () => {
          const { privateKey } = await generateKeyPair('RS256');
          const t = await new SignJWT({
            aud: 'sse-pubsub',
            exp: nowSeconds() + 60,
            channels: ['private/a'],
          })
            .setProtectedHeader({ alg: 'RS256' })
            .sign(privateKey);
          return request(`/events?channel=private/a&token=${t}`);
        },
      ],
      [
        'a token for another channel',
        403,
        'token does not grant channel "private/a"',
        async () =>
          request(`/events?channel=private/a&token=${await hs256({ channels: ['private/b'] })}`),
      ],
      [
        'a* asked for b',
        403,
        'token does not grant channel "private/b"',
        async () =>
          request(`/events?channel=private/b&token=${await hs256({ channels: ['private/a*'] })}`),
      ],
      [
        'an exact grant asked for a longer name',
        403,
        'token does not grant channel "private/ab"',
        async () =>
          request(`/events?channel=private/ab&token=${await hs256({ channels: ['private/a'] })}`),
      ],
      [
        'no channels claim at all',
        403,
        'token does not grant channel "private/a"',
        async () =>
          request(`/poll?channel=private/a&token=${await hs256({ channels: undefined })}`),
      ],
    ];

    it.each(cases)('%s → %i', async (_name, status, message, make) => {
      // Prepare
      const req = await make();

      // Act
      const error = errorOf(await route(req));

      // Assess
      expect(error.status).toBe(status);
      expect(error.code).toBe(status === 401 ? 'unauthorized' : 'forbidden');
      expect(error.message).toContain(message);
      const token = req.query.get('token') ?? req.headers.authorization?.slice(7);
      if (token !== undefined && token.length > 8) expect(error.message).not.toContain(token);
    });

    it('names the one channel not granted among several', async () => {
      // Prepare
      const token = await hs256({ channels: ['private/a', 'user/1/*'] });

      // Act
      const error = errorOf(
        await route(
          request(
            `/events?channel=private/a&channel=user/1/inbox&channel=private/b&channel=public&token=${token}`,
          ),
        ),
      );

      // Assess
      expect(error).toEqual({
        status: 403,
        code: 'forbidden',
        message: 'token does not grant channel "private/b"',
      });
    });

    it('answers 401 with WWW-Authenticate and the CORS headers', async () => {
      const response = await route(
        request('/events?channel=private/a&token=nope', { origin: 'https://app.example' }),
      );
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(response.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    });

    it('refuses /poll the same way as /events', async () => {
      const error = errorOf(await route(request('/poll?channel=user/1')));
      expect(error.status).toBe(401);
    });

    it('checks the request (400) before the token', async () => {
      const error = errorOf(await route(request('/events?channel=private/a&lastEventId=bad')));
      expect(error.status).toBe(400);
    });
  });

  describe('grants', () => {
    it.each([
      [
        'the Authorization header',
        (t: string) => request('/events?channel=private/a', { authorization: `Bearer ${t}` }),
      ],
      [
        'a lower-case bearer scheme',
        (t: string) => request('/events?channel=private/a', { authorization: `bearer  ${t} ` }),
      ],
      ['the token parameter', (t: string) => request(`/events?channel=private/a&token=${t}`)],
      [
        'the sse_token cookie',
        (t: string) =>
          request('/events?channel=private/a', { cookie: `theme=dark; sse_token=${t}` }),
      ],
    ])('opens a private stream with a token in %s', async (_where, make) => {
      const response = await route(make(await hs256()));
      expect(response.kind).toBe('stream');
      expect(response.status).toBe(200);
    });

    it('takes the first source found: the header over the parameter over the cookie', async () => {
      const good = await hs256();
      const bad = await hs256({}, OTHER_SECRET);
      expect(
        (
          await route(
            request(`/events?channel=private/a&token=${bad}`, {
              authorization: `Bearer ${good}`,
              cookie: `sse_token=${bad}`,
            }),
          )
        ).status,
      ).toBe(200);
      expect(
        (
          await route(
            request(`/events?channel=private/a&token=${good}`, { authorization: `Bearer ${bad}` }),
          )
        ).status,
      ).toBe(401);
      expect(
        (
          await route(
            request(`/events?channel=private/a&token=${good}`, { cookie: `sse_token=${bad}` }),
          )
        ).status,
      ).toBe(200);
      expect(
        (
          await route(
            request(`/events?channel=private/a&token=${bad}`, { cookie: `sse_token=${good}` }),
          )
        ).status,
      ).toBe(401);
    });

    it('grants by prefix pattern and exact name together', async () => {
      const token = await hs256({ channels: ['private/team/*', 'user/7'] });
      const response = await route(
        request(
          `/poll?channel=private/team/x&channel=private/team/y/z&channel=user/7&token=${token}`,
        ),
      );
      expect(response.status).toBe(200);
    });

    it('accepts an audience array holding ours', async () => {
      const token = await hs256({ aud: ['other', 'sse-pubsub'] });
      expect((await route(request(`/poll?channel=private/a&token=${token}`))).status).toBe(200);
    });

    it('needs no token for public channels, and ignores a bad one sent anyway', async () => {
      expect((await route(request('/events?channel=public/a'))).status).toBe(200);
      expect((await route(request('/events?channel=public/a&token=garbage'))).status).toBe(200);
      expect(
        (await route(request('/events?channel=privateer', { authorization: 'Bearer x' }))).status,
      ).toBe(200);
    });

    it('serves public and private channels together with one token', async () => {
      const token = await hs256();
      const response = await route(
        request(`/poll?channel=public&channel=private/a&token=${token}`),
      );
      expect(response.status).toBe(200);
    });

    it('lets every channel through when no prefix is private', async () => {
      const response = await routeWith(
        authorizerFromConfig(readAuthConfig({ AUTH_SECRET: SECRET_TEXT })),
      )(request('/events?channel=private/a'));
      expect(response.status).toBe(200);
    });
  });

  describe('token expiry', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      vi.setSystemTime(Date.UTC(2026, 0, 1, 12));
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('ends the stream cleanly at exp, not at the stream lifetime', async () => {
      // Prepare: a token valid for 42 s; streams live 5 min.
      const authorize = createAuthorizer({
        privatePrefixes: ['private/'],
        verify: createTokenVerifier({ secret: SECRET, clock: () => Date.now() }),
      });
      const router = createRouter({
        config: DEFAULT_SUBSCRIBE_CONFIG,
        feed: () => new PollingFeed(new MemoryEventLog(), { minMs: 200, maxMs: 1000 }),
        clock: () => Date.now(),
        random: () => 0,
        authorize,
      });
      const exp = nowSeconds() + 42;
      const response = await router(
        request(`/events?channel=private/a&token=${await hs256({ exp })}`),
      );
      if (response.kind !== 'stream') throw new Error('expected a stream');
      const chunks: string[] = [];
      let endedAt = 0;

      // Act
      const done = response
        .run((chunk) => void chunks.push(chunk), new AbortController().signal)
        .then((summary) => {
          endedAt = Date.now();
          return summary;
        });
      await vi.advanceTimersByTimeAsync(120_000);

      // Assess
      expect((await done).reason).toBe('token');
      expect(endedAt).toBeGreaterThanOrEqual(exp * 1000);
      expect(endedAt).toBeLessThanOrEqual(exp * 1000 + 1_000);
      expect(chunks.join('')).toContain('event: stream.open');
    });

    it('ends a long poll no later than exp', async () => {
      // Prepare: `feed` is asked for once the token is verified, which takes real time
      // (WebCrypto), so the fake clock only moves after that.
      let authorized = false;
      const router = createRouter({
        config: DEFAULT_SUBSCRIBE_CONFIG,
        feed: () => {
          authorized = true;
          return new PollingFeed(new MemoryEventLog(), { minMs: 200, maxMs: 1000 });
        },
        clock: () => Date.now(),
        random: () => 0,
        authorize: createAuthorizer({
          privatePrefixes: ['private/'],
          verify: createTokenVerifier({ secret: SECRET, clock: () => Date.now() }),
        }),
      });
      const exp = nowSeconds() + 3;
      let answeredAt = 0;
      const pending = router(
        request(`/poll?channel=private/a&wait=20&token=${await hs256({ exp })}`),
      ).then((response) => {
        answeredAt = Date.now();
        return response;
      });
      while (!authorized) await new Promise((resolve) => setImmediate(resolve));
      await vi.advanceTimersByTimeAsync(25_000);
      expect((await pending).status).toBe(200);
      expect(answeredAt).toBeGreaterThan(0);
      expect(answeredAt).toBeLessThanOrEqual(exp * 1000 + 1_000);
    });
  });
});

describe('Function: createTokenVerifier', () => {
  it('tells the verified grants, expiry and subject', async () => {
    const exp = nowSeconds() + 60;
    const verify = createTokenVerifier({ secret: SECRET });
    const token = await hs256({ exp, sub: 'user-7', channels: ['a', 'b*'] });
    await expect(verify(token)).resolves.toEqual({
      channels: ['a', 'b*'],
      expiresAt: exp * 1000,
      subject: 'user-7',
    });
  });

  it('checks a configured audience', async () => {
    const verify = createTokenVerifier({ secret: SECRET, audience: 'my-app' });
    await expect(verify(await hs256({ aud: 'my-app' }))).resolves.toMatchObject({});
    await expect(verify(await hs256())).rejects.toThrow('token audience (aud) is not "my-app"');
  });

  it('refuses an HS256 token signed with the JWKS public key (HS/RS confusion)', async () => {
    // Prepare: the attacker knows the issuer's public key and uses it as an HMAC secret.
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const jwks = async () => publicKey;
    const verify = createTokenVerifier({ secret: SECRET, jwks });
    const forged = await new SignJWT({ aud: 'sse-pubsub', exp: nowSeconds() + 60, channels: ['a'] })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    const genuine = await new SignJWT({
      aud: 'sse-pubsub',
      exp: nowSeconds() + 60,
      channels: ['a'],
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .sign(privateKey);

    // Act + Assess
    await expect(verify(forged)).rejects.toMatchObject({ problem: 'signature' });
    await expect(verify(genuine)).resolves.toMatchObject({ channels: ['a'] });
    // …and without a secret, HS256 is not accepted at all.
    await expect(createTokenVerifier({ jwks })(forged)).rejects.toMatchObject({
      problem: 'algorithm',
    });
  });

  it('refuses an RS256 header on a token signed with HMAC', async () => {
    const { publicKey } = await generateKeyPair('RS256');
    const verify = createTokenVerifier({ secret: SECRET, jwks: async () => publicKey });
    const [, payload, signature] = (await hs256()).split('.');
    const relabelled = `${b64({ alg: 'RS256' })}.${payload}.${signature}`;
    await expect(verify(relabelled)).rejects.toBeInstanceOf(TokenError);
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => createTokenVerifier({ secret: new Uint8Array(31) })).toThrow('32 bytes');
  });
});

describe('Function: readAuthConfig', () => {
  it('defaults to every channel public', () => {
    const config = readAuthConfig({});
    expect(config).toMatchObject({
      privatePrefixes: [],
      audience: 'sse-pubsub',
      cookieName: 'sse_token',
      maxTokenLifetimeSeconds: 86_400,
    });
    expect(authorizerFromConfig(config)).toBeUndefined();
  });

  it('reads every variable', () => {
    const config = readAuthConfig({
      AUTH_PRIVATE_PREFIXES: 'private/, user/',
      AUTH_SECRET: SECRET_TEXT,
      AUTH_JWKS_URL: 'https://issuer.example/.well-known/jwks.json',
      AUTH_ISSUER: 'https://issuer.example/',
      AUTH_AUDIENCE: 'my-app',
      AUTH_COOKIE_NAME: 'st',
      AUTH_MAX_TOKEN_LIFETIME_SECONDS: ' 3600 ',
    });
    expect(config).toEqual({
      privatePrefixes: ['private/', 'user/'],
      secret: SECRET,
      secretArn: undefined,
      jwksUrl: new URL('https://issuer.example/.well-known/jwks.json'),
      issuer: 'https://issuer.example/',
      audience: 'my-app',
      cookieName: 'st',
      maxTokenLifetimeSeconds: 3600,
    });
  });

  it.each<[Record<string, string>, string]>([
    [
      { AUTH_PRIVATE_PREFIXES: 'private/' },
      'AUTH_PRIVATE_PREFIXES is set, but nothing verifies tokens',
    ],
    [{ AUTH_PRIVATE_PREFIXES: 'ok/,bad prefix' }, 'AUTH_PRIVATE_PREFIXES: "bad prefix"'],
    [{ AUTH_SECRET: 'short' }, 'AUTH_SECRET must be at least 32 bytes (HS256), got 5'],
    [{ AUTH_SECRET: SECRET_TEXT, AUTH_SECRET_ARN: 'arn:x' }, 'AUTH_SECRET and AUTH_SECRET_ARN'],
    [{ AUTH_JWKS_URL: 'not a url' }, 'AUTH_JWKS_URL must be an http(s) URL'],
    [{ AUTH_JWKS_URL: 'ftp://x/jwks' }, 'AUTH_JWKS_URL must be an http(s) URL'],
    [{ AUTH_ISSUER: 'https://x/' }, 'AUTH_ISSUER is set without AUTH_JWKS_URL'],
    [{ AUTH_COOKIE_NAME: 'a b' }, 'AUTH_COOKIE_NAME must be a cookie name'],
    ...['0', '-5', '1.5', '1h', '1e3'].map((value): [Record<string, string>, string] => [
      { AUTH_MAX_TOKEN_LIFETIME_SECONDS: value },
      `AUTH_MAX_TOKEN_LIFETIME_SECONDS must be a positive integer, got ${JSON.stringify(value)}`,
    ]),
  ])('names the bad variable in %j', (env, message) => {
    expect(() => readAuthConfig(env)).toThrow(ConfigError);
    expect(() => readAuthConfig(env)).toThrow(message);
  });

  it('never puts a short secret into its error', () => {
    expect(() => readAuthConfig({ AUTH_SECRET: 'hunter2-secret' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });

  it('accepts AUTH_SECRET_ARN as the verifier, to be fetched by the entry point', () => {
    const config = readAuthConfig({ AUTH_PRIVATE_PREFIXES: 'p/', AUTH_SECRET_ARN: 'arn:aws:x' });
    expect(config.secretArn).toBe('arn:aws:x');
    expect(() => authorizerFromConfig(config)).toThrow('the HS256 secret was not provided');
    expect(authorizerFromConfig(config, { secret: SECRET })).toBeTypeOf('function');
  });
});

describe('Function: fetchSigningSecret', () => {
  const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sse-token-AbCdEf';
  const secrets = mockClient(SecretsManagerClient);

  beforeEach(() => {
    secrets.reset();
  });

  it('returns the SecretString as bytes', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: SECRET_TEXT });
    await expect(fetchSigningSecret(new SecretsManagerClient({}), ARN)).resolves.toEqual(SECRET);
  });

  it.each([
    [
      'a failed call',
      () => secrets.on(GetSecretValueCommand).rejects(new Error('AccessDenied')),
      'cannot read the token secret',
    ],
    [
      'no SecretString',
      () => secrets.on(GetSecretValueCommand).resolves({}),
      'has no SecretString',
    ],
    [
      'a short secret',
      () => secrets.on(GetSecretValueCommand).resolves({ SecretString: 'tiny-secret' }),
      'at least 32 bytes',
    ],
  ])('names the ARN on %s', async (_name, prepare, message) => {
    prepare();
    const error = await fetchSigningSecret(new SecretsManagerClient({}), ARN).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(ARN);
    expect((error as ConfigError).message).toContain(message);
    expect((error as ConfigError).message).not.toContain('tiny-secret');
  });

  it('passes the check once the secret is fetched: signingSecret', () => {
    expect(signingSecret(SECRET_TEXT, 'x')).toEqual(SECRET);
  });
});
