/**
 * Access control over real HTTP: the Node adapter on 127.0.0.1, `fetch` and the npm
 * `eventsource` client, an OIDC-style JWKS served by a `node:http` server, and a stream
 * that ends itself when its token expires.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSource } from 'eventsource';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type SubscribeServer,
  startSubscribeServer,
} from '../../../../functions/adapters/node/http-adapter.js';
import { authorizerFromConfig, readAuthConfig } from '../../../../functions/auth/auth-config.js';
import { AuthUnavailableError } from '../../../../functions/auth/token-verifier.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import { PollingFeed } from '../../../../functions/core/polling-feed.js';
import type { Authorizer } from '../../../../functions/http/access.js';
import { createRouter } from '../../../../functions/http/router.js';
import {
  DEFAULT_SUBSCRIBE_CONFIG,
  type SubscribeConfig,
} from '../../../../functions/http/subscribe-config.js';

const SECRET_TEXT = 'http-test-secret-of-at-least-32-bytes-0123';
const SECRET = new TextEncoder().encode(SECRET_TEXT);
const OTHER_SECRET = new TextEncoder().encode('http-other-secret-of-at-least-32-bytes-01');
const ISSUER = 'https://issuer.test/';
const nowSeconds = () => Math.floor(Date.now() / 1000);

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

async function hs256(claims: JWTPayload = {}, key: Uint8Array = SECRET): Promise<string> {
  return new SignJWT({
    aud: 'sse-pubsub',
    exp: nowSeconds() + 600,
    channels: ['private/a'],
    ...claims,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(key);
}

async function signed(
  alg: 'RS256' | 'ES256',
  keys: KeyPair,
  kid: string,
  claims: JWTPayload = {},
): Promise<string> {
  return new SignJWT({
    aud: 'sse-pubsub',
    iss: ISSUER,
    exp: nowSeconds() + 600,
    channels: ['private/a'],
    ...claims,
  })
    .setProtectedHeader({ alg, kid })
    .sign(keys.privateKey);
}

interface Running {
  readonly url: string;
  readonly server: SubscribeServer;
  readonly problems: unknown[];
}

describe('Feature: access control over HTTP (Node adapter)', () => {
  const running: Running[] = [];
  const sources: EventSource[] = [];

  afterEach(async () => {
    for (const source of sources.splice(0)) source.close();
    for (const { server } of running.splice(0)) await server.close();
  });

  async function start(
    authorize: Authorizer | undefined,
    overrides: Partial<SubscribeConfig> = {},
  ): Promise<Running> {
    const log = new MemoryEventLog();
    const problems: unknown[] = [];
    const router = createRouter({
      config: { ...DEFAULT_SUBSCRIBE_CONFIG, retryMs: 50, heartbeatMs: 1_000, ...overrides },
      feed: () => new PollingFeed(log, { minMs: 25, maxMs: 100 }),
      clock: Date.now,
      random: () => 0,
      authorize,
      onError: (error) => problems.push(error),
    });
    const server = await startSubscribeServer({ router, onError: (e) => problems.push(e) });
    const stack = { url: server.url, server, problems };
    running.push(stack);
    return stack;
  }

  const hsOnly = () =>
    authorizerFromConfig(
      readAuthConfig({ AUTH_PRIVATE_PREFIXES: 'private/,user/', AUTH_SECRET: SECRET_TEXT }),
    );

  describe('Endpoint: GET /events with HS256 tokens', () => {
    const refusals: [string, number, string, () => Promise<[string, Record<string, string>]>][] = [
      ['no token', 401, 'a token is required', async () => ['channel=private/a', {}]],
      [
        'a bad signature (header)',
        401,
        'token signature is invalid',
        async () => [
          'channel=private/a',
          { authorization: `Bearer ${await hs256({}, OTHER_SECRET)}` },
        ],
      ],
      [
        'alg none (query)',
        401,
        'token algorithm "none" is not accepted',
        async () => {
          const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
          const none = `${b64({ alg: 'none' })}.${b64({ aud: 'sse-pubsub', exp: nowSeconds() + 60, channels: ['private/a'] })}.`;
          return [`channel=private/a&token=${none}`, {}];
        },
      ],
      [
        'an expired token (cookie)',
        401,
        'token has expired',
        async () => [
          'channel=private/a',
          { cookie: `sse_token=${await hs256({ exp: nowSeconds() - 1 })}` },
        ],
      ],
      [
        'a token not valid yet (query)',
        401,
        'not valid yet',
        async () => [`channel=private/a&token=${await hs256({ nbf: nowSeconds() + 60 })}`, {}],
      ],
      [
        'a wrong audience (header)',
        401,
        'audience',
        async () => [
          'channel=private/a',
          { authorization: `Bearer ${await hs256({ aud: 'elsewhere' })}` },
        ],
      ],
      [
        'a token for another channel (cookie)',
        403,
        'token does not grant channel "private/a"',
        async () => [
          'channel=private/a',
          { cookie: `sse_token=${await hs256({ channels: ['private/b'] })}` },
        ],
      ],
      [
        'a* asked for b (query)',
        403,
        'token does not grant channel "user/b"',
        async () => [`channel=user/b&token=${await hs256({ channels: ['user/a*'] })}`, {}],
      ],
      [
        'one of several not granted (header)',
        403,
        'token does not grant channel "private/c"',
        async () => [
          'channel=private/a&channel=private/c&channel=open',
          { authorization: `Bearer ${await hs256({ channels: ['private/a'] })}` },
        ],
      ],
    ];

    it.each(refusals)('%s → %i JSON, no stream bytes', async (_name, status, message, make) => {
      // Prepare
      const stack = await start(hsOnly());
      const [query, headers] = await make();

      // Act
      const response = await fetch(`${stack.url}/events?${query}`, {
        headers: { accept: 'text/event-stream', ...headers },
      });
      const text = await response.text();

      // Assess
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const body = JSON.parse(text) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(status === 401 ? 'unauthorized' : 'forbidden');
      expect(body.error.message).toContain(message);
      expect(text).not.toMatch(/^(retry|event|data|id):/m);
      expect(stack.problems).toEqual([]);
    });

    it.each([
      ['the query string', async () => ({ query: `&token=${await hs256()}`, headers: {} })],
      [
        'the Authorization header',
        async () => ({ query: '', headers: { authorization: `Bearer ${await hs256()}` } }),
      ],
      [
        'the cookie',
        async () => ({ query: '', headers: { cookie: `other=1; sse_token=${await hs256()}` } }),
      ],
    ])('streams a private channel to EventSource with the token in %s', async (_where, make) => {
      // Prepare
      const stack = await start(hsOnly());
      const { query, headers } = await make();
      const source = new EventSource(`${stack.url}/events?channel=private/a${query}`, {
        fetch: (input, init) =>
          fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
      });
      sources.push(source);

      // Act
      const opened = await new Promise<string>((resolve, reject) => {
        source.addEventListener('stream.open', (event: MessageEvent) =>
          resolve(String(event.data)),
        );
        source.onerror = () => reject(new Error('EventSource failed'));
      });

      // Assess
      expect(JSON.parse(opened)).toEqual({ channels: ['private/a'] });
    });

    it('ends the stream when the token expires, long before the stream lifetime', async () => {
      // Prepare: exp is whole seconds; this token has 1–2 s left. Streams live 60 s.
      const stack = await start(hsOnly(), { lifetimeMs: 60_000, lifetimeJitter: 0 });
      const exp = nowSeconds() + 2;
      const started = Date.now();

      // Act
      const response = await fetch(
        `${stack.url}/events?channel=private/a&token=${await hs256({ exp })}`,
      );
      const text = await response.text(); // resolves when the server ends the stream
      const endedAt = Date.now();

      // Assess
      expect(response.status).toBe(200);
      expect(text).toContain('event: stream.open');
      expect(endedAt).toBeGreaterThanOrEqual(exp * 1000 - 50);
      expect(endedAt - started).toBeLessThan(5_000);
      // The reconnect with the same token is refused, so the client fetches a new one.
      const again = await fetch(
        `${stack.url}/events?channel=private/a&token=${await hs256({ exp })}`,
      );
      expect(again.status).toBe(401);
      expect(await again.json()).toMatchObject({ error: { message: 'token has expired' } });
    });
  });

  describe('Endpoint: GET /poll with JWKS (RS256, ES256) tokens', () => {
    let jwksServer: Server;
    let jwksUrl: string;
    let jwksRequests = 0;
    let rsa: KeyPair;
    let ec: KeyPair;
    let stranger: KeyPair;

    beforeAll(async () => {
      rsa = await generateKeyPair('RS256', { extractable: true });
      ec = await generateKeyPair('ES256', { extractable: true });
      stranger = await generateKeyPair('RS256', { extractable: true });
      const keys = [
        { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
      ];
      jwksServer = createServer((req, res) => {
        jwksRequests += 1;
        if (req.url !== '/.well-known/jwks.json') {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys }));
      });
      await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
      const { port } = jwksServer.address() as AddressInfo;
      jwksUrl = `http://127.0.0.1:${port}/.well-known/jwks.json`;
    });

    afterAll(async () => {
      await new Promise((resolve) => jwksServer.close(resolve));
    });

    const withJwks = () =>
      authorizerFromConfig(
        readAuthConfig({
          AUTH_PRIVATE_PREFIXES: 'private/',
          AUTH_SECRET: SECRET_TEXT,
          AUTH_JWKS_URL: jwksUrl,
          AUTH_ISSUER: ISSUER,
        }),
      );

    async function poll(stack: Running, token: string) {
      const response = await fetch(`${stack.url}/poll?channel=private/a`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }

    it('accepts RS256 and ES256 tokens signed with published keys, fetching the JWKS once', async () => {
      const stack = await start(withJwks());
      const before = jwksRequests;
      expect((await poll(stack, await signed('RS256', rsa, 'rsa-1'))).status).toBe(200);
      expect((await poll(stack, await signed('ES256', ec, 'ec-1'))).status).toBe(200);
      expect((await poll(stack, await signed('RS256', rsa, 'rsa-1'))).status).toBe(200);
      expect(jwksRequests - before).toBe(1);
      // HS256 tokens of the backend still verify beside them.
      expect((await poll(stack, await hs256())).status).toBe(200);
    });

    it.each([
      [
        'a key the issuer does not publish',
        () => signed('RS256', stranger, 'rsa-1'),
        'token signature is invalid',
      ],
      [
        'an unknown key id',
        () => signed('RS256', stranger, 'rsa-9'),
        'token is signed with a key the issuer does not publish',
      ],
      [
        'the wrong issuer',
        () => signed('RS256', rsa, 'rsa-1', { iss: 'https://evil.test/' }),
        'token issuer (iss) is not "https://issuer.test/"',
      ],
      [
        'an expired JWKS token',
        () => signed('ES256', ec, 'ec-1', { exp: nowSeconds() - 10 }),
        'token has expired',
      ],
      [
        'an HS256 token signed with the published RSA key (HS/RS confusion)',
        async () =>
          new SignJWT({ aud: 'sse-pubsub', exp: nowSeconds() + 60, channels: ['private/a'] })
            .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
            .sign(new TextEncoder().encode(JSON.stringify(await exportJWK(rsa.publicKey)))),
        'token signature is invalid',
      ],
    ])('refuses %s with 401', async (_name, make, message) => {
      const stack = await start(withJwks());
      const { status, body } = await poll(stack, await make());
      expect(status).toBe(401);
      expect(body).toEqual({ error: { code: 'unauthorized', message } });
    });

    it('answers 500 and reports it when the JWKS cannot be fetched', async () => {
      // Prepare: a port nothing listens on.
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));
      const stack = await start(
        authorizerFromConfig(
          readAuthConfig({
            AUTH_PRIVATE_PREFIXES: 'private/',
            AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
          }),
        ),
      );
      const token = await signed('RS256', rsa, 'rsa-1');

      // Act
      const { status, body } = await poll(stack, token);

      // Assess
      expect(status).toBe(500);
      expect(body).toEqual({ error: { code: 'internal', message: 'internal error' } });
      expect(stack.problems).toHaveLength(1);
      expect(stack.problems[0]).toBeInstanceOf(AuthUnavailableError);
      expect(String(stack.problems[0])).not.toContain(token);
      stack.problems.length = 0;
    });
  });
});
