/**
 * The publisher SDK's `signSubscriberToken`: the tokens it mints are the ones the
 * stream function accepts, and it refuses, before signing, what the function would refuse.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../../functions/auth/authorizer.js';
import { createTokenVerifier } from '../../../functions/auth/token-verifier.js';
import { MemoryEventLog } from '../../../functions/core/memory-event-log.js';
import { PollingFeed } from '../../../functions/core/polling-feed.js';
import { createRouter } from '../../../functions/http/router.js';
import { DEFAULT_SUBSCRIBE_CONFIG } from '../../../functions/http/subscribe-config.js';
import {
  MAX_TOKEN_TTL_SECONDS,
  signSubscriberToken,
  TokenOptionsError,
} from '../../../publisher/index.js';
import { ttlSeconds } from '../../../publisher/tokens.js';

const SECRET = 'publisher-secret-of-at-least-32-bytes-0123';

describe('Function: signSubscriberToken', () => {
  it('mints an HS256 JWT with iat, exp = iat + ttl, aud, channels, sub and iss', async () => {
    // Act
    const token = await signSubscriberToken({
      channels: ['orders/42', 'user/7/*', 'orders/42'],
      ttl: '15m',
      secret: SECRET,
      subject: 'user-7',
      issuer: 'orders-service',
    });

    // Assess
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      aud: 'sse-pubsub',
      sub: 'user-7',
      iss: 'orders-service',
      channels: ['orders/42', 'user/7/*'],
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(900);
    expect(Math.abs((claims.iat ?? 0) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('mints tokens the stream function accepts for exactly what they grant', async () => {
    // Prepare
    const token = await signSubscriberToken({
      channels: ['private/orders/42', 'private/user/7/*'],
      ttl: 60,
      secret: SECRET,
    });
    const route = createRouter({
      config: DEFAULT_SUBSCRIBE_CONFIG,
      feed: () => new PollingFeed(new MemoryEventLog()),
      clock: Date.now,
      random: () => 0,
      authorize: createAuthorizer({
        privatePrefixes: ['private/'],
        verify: createTokenVerifier({ secret: new TextEncoder().encode(SECRET) }),
      }),
    });
    const poll = async (channel: string) =>
      (
        await route({
          method: 'GET',
          path: '/poll',
          query: new URLSearchParams({ channel, token }),
          headers: {},
        })
      ).status;

    // Act + Assess
    expect(await poll('private/orders/42')).toBe(200);
    expect(await poll('private/user/7/inbox')).toBe(200);
    expect(await poll('private/orders/43')).toBe(403);
    expect(await poll('private/user/8')).toBe(403);
  });

  it('uses a configured audience', async () => {
    const token = await signSubscriberToken({
      channels: ['a'],
      ttl: 60,
      secret: SECRET,
      audience: 'my-app',
    });
    expect(decodeJwt(token).aud).toBe('my-app');
    await expect(
      createTokenVerifier({ secret: new TextEncoder().encode(SECRET), audience: 'my-app' })(token),
    ).resolves.toMatchObject({ channels: ['a'] });
  });

  it.each([
    [{ channels: [] }, 'channels', 'at least one'],
    [{ channels: ['*'] }, 'channels', 'channels[0]: a bare "*"'],
    [{ channels: ['ok', 'a*b'] }, 'channels', 'channels[1]: "a*b" must be a channel name'],
    [{ channels: ['a b'] }, 'channels', 'channels[0]'],
    [{ channels: ['x'.repeat(129)] }, 'channels', 'channels[0]'],
    [{ ttl: 0 }, 'ttl', 'from 1 second'],
    [{ ttl: -5 }, 'ttl', 'from 1 second'],
    [{ ttl: MAX_TOKEN_TTL_SECONDS + 1 }, 'ttl', 'a day'],
    [{ ttl: 900_000 }, 'ttl', 'a day'],
    [{ ttl: '2d' }, 'ttl', 'a day'],
    [{ ttl: 'soon' }, 'ttl', 'is not a duration'],
    [{ ttl: '15 fortnights' }, 'ttl', 'is not a duration'],
    [{ ttl: Number.NaN }, 'ttl', 'from 1 second'],
    [{ secret: 'short' }, 'secret', 'at least 32 bytes (HS256), got 5'],
    [{ secret: new Uint8Array(16) }, 'secret', 'got 16'],
    [{ audience: ' ' }, 'audience', 'non-empty'],
    [{ subject: '' }, 'subject', 'non-empty'],
  ])('refuses %j, naming the option', async (override, option, message) => {
    const signing = signSubscriberToken({ channels: ['a'], ttl: 60, secret: SECRET, ...override });
    await expect(signing).rejects.toBeInstanceOf(TokenOptionsError);
    await expect(
      signSubscriberToken({ channels: ['a'], ttl: 60, secret: SECRET, ...override }),
    ).rejects.toMatchObject({ option, message: expect.stringContaining(message) });
  });

  it('never puts the secret into an error', async () => {
    const error = await signSubscriberToken({
      channels: ['a'],
      ttl: 60,
      secret: 'hunter2-short',
    }).catch((e: unknown) => e);
    expect(String(error)).not.toContain('hunter2');
  });

  it('refuses a token too long for the stream function', async () => {
    const channels = Array.from({ length: 80 }, (_, i) => `channel/${i}/${'x'.repeat(90)}`);
    await expect(signSubscriberToken({ channels, ttl: 60, secret: SECRET })).rejects.toMatchObject({
      option: 'channels',
      message: expect.stringContaining('the stream function accepts 8192'),
    });
  });
});

describe('Function: ttlSeconds', () => {
  it.each([
    [900, 900],
    [90.9, 90],
    ['900', 900],
    ['90s', 90],
    ['90 s', 90],
    ['15m', 900],
    ['15 minutes', 900],
    ['1h', 3600],
    ['1.5h', 5400],
    ['2 hours', 7200],
    ['1d', 86_400],
    ['1 day', 86_400],
  ])('reads %j as %i seconds', (ttl, seconds) => {
    expect(ttlSeconds(ttl)).toBe(seconds);
  });
});
