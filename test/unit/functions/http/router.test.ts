import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../../functions/config/env.js';
import { decodeCursor, encodeCursor } from '../../../../functions/core/cursor.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import { PollingFeed } from '../../../../functions/core/polling-feed.js';
import type { Authorizer } from '../../../../functions/http/access.js';
import {
  HttpError,
  type HttpRequest,
  type HttpResponse,
} from '../../../../functions/http/http-types.js';
import { createRouter } from '../../../../functions/http/router.js';
import {
  DEFAULT_SUBSCRIBE_CONFIG,
  readSubscribeConfig,
  type SubscribeConfig,
} from '../../../../functions/http/subscribe-config.js';

function request(
  url: string,
  init: Partial<Omit<HttpRequest, 'path' | 'query'>> = {},
): HttpRequest {
  const parsed = new URL(url, 'http://localhost');
  return {
    method: 'GET',
    path: parsed.pathname,
    query: parsed.searchParams,
    headers: {},
    ...init,
  };
}

function json(response: HttpResponse): {
  status: number;
  body: unknown;
  headers: Record<string, string>;
} {
  if (response.kind !== 'json') throw new Error(`expected JSON, got ${response.kind}`);
  return { status: response.status, body: response.body, headers: response.headers };
}

describe('Function: createRouter', () => {
  let log: MemoryEventLog;
  let config: SubscribeConfig;
  let authorize: Authorizer | undefined;

  beforeEach(() => {
    log = new MemoryEventLog();
    config = { ...DEFAULT_SUBSCRIBE_CONFIG, corsOrigins: ['https://app.example'] };
    authorize = undefined;
  });

  const route = (req: HttpRequest) =>
    createRouter({
      config,
      feed: () => new PollingFeed(log, { minMs: 10, maxMs: 20 }),
      clock: Date.now,
      random: () => 0,
      authorize,
    })(req);

  const publish = (channel: string, data: string) =>
    log.append(channel, [{ event: 'message', data, dedupeKey: data }]);

  describe('errors', () => {
    it.each([
      ['/events', 400, 'missing_parameter', 'channel: at least one channel is required'],
      ['/events?channel=a%20b', 400, 'invalid_parameter', 'channel: "a b" must match'],
      [
        '/events?channel=a&lastEventId=nope',
        400,
        'malformed_cursor',
        'lastEventId: cursor is not one',
      ],
      [
        '/poll?channel=a&cursor=1.%25%25',
        400,
        'malformed_cursor',
        'cursor: cursor is not base64url',
      ],
      [
        '/poll?channel=a&wait=21',
        400,
        'invalid_parameter',
        'wait: must be a number of seconds from 0 to 20',
      ],
      ['/poll?channel=a&wait=-1', 400, 'invalid_parameter', 'wait:'],
      ['/events?channel=a&envelope=yes', 400, 'invalid_parameter', 'envelope: must be 1 or 0'],
      ['/nowhere', 404, 'not_found', 'no route for /nowhere'],
    ])('%s → %i %s', async (url, status, code, message) => {
      const response = json(await route(request(url)));
      expect(response.status).toBe(status);
      expect(response.body).toEqual({ error: { code, message: expect.stringContaining(message) } });
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    });

    it('refuses more channels than allowed, naming the limit', async () => {
      config = { ...config, maxChannels: 2 };
      const response = json(await route(request('/events?channel=a&channel=b&channel=c')));
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        error: {
          code: 'invalid_parameter',
          message: 'channel: at most 2 channels per subscription, got 3',
        },
      });
    });

    it('answers 405 with Allow for a method other than GET', async () => {
      const response = json(await route(request('/events?channel=a', { method: 'POST' })));
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('GET, OPTIONS');
    });

    it.each([401, 403] as const)(
      'passes an authorizer %i through as a JSON error',
      async (status) => {
        authorize = async () => {
          throw new HttpError(status, status === 401 ? 'unauthorized' : 'forbidden', 'no');
        };
        const response = json(await route(request('/events?channel=private/a')));
        expect(response.status).toBe(status);
        expect(response.body).toEqual({
          error: { code: status === 401 ? 'unauthorized' : 'forbidden', message: 'no' },
        });
      },
    );

    it('turns an unexpected error into a 500 JSON with CORS headers, and reports it', async () => {
      const seen: unknown[] = [];
      const failure = new Error('store down');
      const response = json(
        await createRouter({
          config,
          feed: () => new PollingFeed(log),
          clock: Date.now,
          random: () => 0,
          authorize: async () => {
            throw failure;
          },
          onError: (error) => seen.push(error),
        })(request('/poll?channel=a', { headers: { origin: 'https://app.example' } })),
      );
      expect(response.status).toBe(500);
      expect(response.body).toEqual({ error: { code: 'internal', message: 'internal error' } });
      expect(response.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(seen).toEqual([failure]);
    });

    it('prefers the Last-Event-ID header over the query parameter', async () => {
      const response = json(
        await route(
          request('/events?channel=a&lastEventId=earliest', {
            headers: { 'last-event-id': 'bad' },
          }),
        ),
      );
      expect(response.body).toMatchObject({
        error: { message: expect.stringMatching(/^Last-Event-ID:/) },
      });
    });
  });

  describe('CORS', () => {
    it('allows a configured origin on the stream and answers its preflight', async () => {
      const headers = { origin: 'https://app.example' };
      const stream = await route(request('/events?channel=a', { headers }));
      expect(stream.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(stream.headers['access-control-allow-credentials']).toBe('true');
      expect(stream.headers.vary).toBe('Origin');

      const preflight = await route(request('/events', { method: 'OPTIONS', headers }));
      expect(preflight).toMatchObject({ kind: 'empty', status: 204 });
      expect(preflight.headers['access-control-allow-headers']).toContain('Last-Event-ID');
    });

    it('sends no CORS header to an origin not on the list', async () => {
      const stream = await route(
        request('/events?channel=a', { headers: { origin: 'https://evil.example' } }),
      );
      expect(stream.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('allows any origin with *', async () => {
      config = { ...config, corsOrigins: '*' };
      const stream = await route(
        request('/events?channel=a', { headers: { origin: 'https://x.example' } }),
      );
      expect(stream.headers['access-control-allow-origin']).toBe('*');
      expect(stream.headers['access-control-allow-credentials']).toBeUndefined();
    });
  });

  describe('GET /events', () => {
    it('answers a stream with the SSE headers', async () => {
      const response = await route(request('/events?channel=a'));
      expect(response.kind).toBe('stream');
      expect(response.headers).toMatchObject({
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-store, no-transform',
        'x-accel-buffering': 'no',
      });
    });

    it('stops the stream before the deadline margin and before the token expires', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      try {
        config = { ...config, deadlineMarginMs: 5_000 };
        authorize = async () => ({ notAfter: Date.now() + 60_000 });
        const response = await route(
          request('/events?channel=a', { deadline: Date.now() + 20_000 }),
        );
        if (response.kind !== 'stream') throw new Error('expected a stream');
        const started = Date.now();
        let endedAt = 0;
        const done = response
          .run(() => {}, new AbortController().signal)
          .then((summary) => {
            endedAt = Date.now();
            return summary;
          });
        await vi.advanceTimersByTimeAsync(30_000);
        expect((await done).reason).toBe('deadline');
        // deadline 20 s − margin 5 s = 15 s, well before the token's 60 s.
        expect(endedAt - started).toBeGreaterThanOrEqual(15_000);
        expect(endedAt - started).toBeLessThanOrEqual(15_000 + 1_000);
      } finally {
        vi.useRealTimers();
      }
    });
  });

  describe('GET /poll', () => {
    it('answers events after the cursor with the next cursor', async () => {
      for (const d of ['e1', 'e2', 'e3']) await publish('a', d);
      const cursor = encodeCursor(new Map([['a', 1]]));
      const response = json(await route(request(`/poll?channel=a&cursor=${cursor}`)));
      expect(response.status).toBe(200);
      const body = response.body as {
        events: { id: string; data: string }[];
        cursor: string;
        resets: unknown[];
      };
      expect(body.events.map((e) => e.data)).toEqual(['e2', 'e3']);
      expect(body.cursor).toBe(body.events.at(-1)?.id);
      expect(decodeCursor(body.cursor).get('a')).toBe(3);
      expect(body.resets).toEqual([]);
    });

    it('pages with the configured limit, and the next cursor continues exactly', async () => {
      config = { ...config, pollLimit: 2 };
      for (const d of ['e1', 'e2', 'e3', 'e4', 'e5']) await publish('a', d);
      const seen: string[] = [];
      let cursor = 'earliest';
      for (let i = 0; i < 4; i++) {
        const body = json(await route(request(`/poll?channel=a&cursor=${cursor}`))).body as {
          events: { data: string }[];
          cursor: string;
        };
        expect(body.events.length).toBeLessThanOrEqual(2);
        seen.push(...body.events.map((e) => e.data));
        cursor = body.cursor;
      }
      expect(seen).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    });

    it('gives a busy channel the room quiet channels leave in one answer', async () => {
      config = { ...config, pollLimit: 100 };
      await log.append(
        'busy',
        Array.from({ length: 300 }, (_, i) => ({
          event: 'message',
          data: `b${i}`,
          dedupeKey: `b${i}`,
        })),
      );
      await publish('quiet', 'q1');
      const query = ['busy', 'quiet', 'q2', 'q3'].map((c) => `channel=${c}`).join('&');
      const body = json(await route(request(`/poll?${query}&cursor=earliest`))).body as {
        events: { channel: string; data: string }[];
      };
      expect(body.events.length).toBe(100);
      expect(body.events.filter((e) => e.channel === 'quiet').map((e) => e.data)).toEqual(['q1']);
      expect(body.events.filter((e) => e.channel === 'busy').map((e) => e.data)).toEqual(
        Array.from({ length: 99 }, (_, i) => `b${i}`),
      );
    });

    it('answers a long poll as soon as an event arrives', async () => {
      const first = json(await route(request('/poll?channel=a'))).body as { cursor: string };
      const started = Date.now();
      const pending = route(request(`/poll?channel=a&cursor=${first.cursor}&wait=10`));
      setTimeout(() => void publish('a', 'late'), 50);
      const body = json(await pending).body as { events: { data: string }[] };
      expect(body.events.map((e) => e.data)).toEqual(['late']);
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('lists resets for an expired cursor', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        log = new MemoryEventLog({ retentionMs: 1_000 });
        await publish('a', 'old');
        vi.advanceTimersByTime(2_000);
        await publish('a', 'new');
        const cursor = encodeCursor(new Map([['a', 0]]));
        const body = json(await route(request(`/poll?channel=a&cursor=${cursor}`))).body as {
          events: { data: string }[];
          resets: unknown[];
        };
        expect(body.resets).toEqual([{ channel: 'a', reason: 'expired', missed: 1 }]);
        expect(body.events.map((e) => e.data)).toEqual(['new']);
      } finally {
        vi.useRealTimers();
      }
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });
});

describe('Function: readSubscribeConfig', () => {
  it('applies the documented defaults', () => {
    expect(readSubscribeConfig({})).toEqual(DEFAULT_SUBSCRIBE_CONFIG);
  });

  it('reads every variable', () => {
    const config = readSubscribeConfig({
      RETENTION_SECONDS: '60',
      STREAM_LIFETIME_SECONDS: '120',
      STREAM_LIFETIME_JITTER: '0.5',
      HEARTBEAT_SECONDS: '10',
      DEADLINE_MARGIN_MS: '0',
      STREAM_BYTE_BUDGET: '1000',
      RETRY_MS: '250',
      PADDING_BYTES: '2048',
      PAGE_SIZE: '50',
      POLL_MIN_MS: '100',
      POLL_MAX_MS: '5000',
      POLL_LIMIT: '10',
      POLL_MAX_BYTES: '1000',
      MAX_WAIT_SECONDS: '5',
      MAX_CHANNELS: '4',
      CORS_ORIGINS: 'https://a.example, https://b.example',
    });
    expect(config).toEqual({
      retentionMs: 60_000,
      lifetimeMs: 120_000,
      lifetimeJitter: 0.5,
      heartbeatMs: 10_000,
      deadlineMarginMs: 0,
      byteBudget: 1000,
      retryMs: 250,
      paddingBytes: 2048,
      pageSize: 50,
      pollMinMs: 100,
      pollMaxMs: 5000,
      pollLimit: 10,
      pollMaxBytes: 1000,
      maxWaitSeconds: 5,
      maxChannels: 4,
      corsOrigins: ['https://a.example', 'https://b.example'],
    });
    expect(readSubscribeConfig({ CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
  });

  it.each([
    [{ HEARTBEAT_SECONDS: 'soon' }, 'HEARTBEAT_SECONDS must be a positive integer, got "soon"'],
    [
      { STREAM_LIFETIME_JITTER: '2' },
      'STREAM_LIFETIME_JITTER must be a number from 0 to 1, got "2"',
    ],
    [
      { POLL_MIN_MS: '500', POLL_MAX_MS: '100' },
      'POLL_MAX_MS (100) must be at least POLL_MIN_MS (500)',
    ],
    [{ PADDING_BYTES: '1' }, 'PADDING_BYTES must be 0 or at least 2'],
  ])('names the bad variable in %j', (env, message) => {
    expect(() => readSubscribeConfig(env)).toThrow(ConfigError);
    expect(() => readSubscribeConfig(env)).toThrow(message);
  });
});
