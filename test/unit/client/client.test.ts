/**
 * The client SDK's decisions, with a fake EventSource, a fake fetch and fake timers:
 * token refresh, 401 handling, backoff, the fallback to polling and back, and that a
 * transport switch never delivers an event twice. The same behaviours against the real
 * local stack are in client-stack.test.ts.
 */
import { SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  backoffCeiling,
  backoffDelay,
  type ClientEvent,
  type ConnectionState,
  type CursorStorage,
  cursorKey,
  type EventSourceEventLike,
  type FetchLike,
  memoryStorage,
  type SubscribeError,
  type SubscribeOptions,
  subscribe,
  tokenExpiry,
} from '../../../client/src/index.js';
import { CursorStore } from '../../../client/src/storage.js';

const BASE = 'https://stream.example';

/** A stand-in for EventSource that the test drives by hand. */
class FakeEventSource {
  static instances: FakeEventSource[] = [];
  readyState = 0;
  closed = false;
  readonly url: URL;
  readonly #listeners = new Map<string, ((event: EventSourceEventLike) => void)[]>();

  constructor(url: string) {
    this.url = new URL(url);
    FakeEventSource.instances.push(this);
  }

  static get last(): FakeEventSource {
    const last = FakeEventSource.instances.at(-1);
    if (last === undefined) throw new Error('no EventSource was created');
    return last;
  }

  addEventListener(type: string, listener: (event: EventSourceEventLike) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  /** Dispatches like a browser would, even after close (a chunk still being parsed). */
  emit(type: string, event: EventSourceEventLike = {}): void {
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }

  open(): void {
    this.readyState = 1;
    this.emit('open');
  }

  started(cursor: string): void {
    this.emit('stream.open', { data: '{"channels":["c"]}', lastEventId: cursor });
  }

  send(event: ClientEvent): void {
    this.emit('message', { data: JSON.stringify(event), lastEventId: event.id });
  }

  fail(): void {
    this.readyState = 0;
    this.emit('error');
  }
}

const event = (n: number, channel = 'c'): ClientEvent => ({
  id: `1.cursor-${n}`,
  channel,
  event: 'message',
  data: `event ${n}`,
  time: '2026-11-01T00:00:00.000Z',
});

/** A fake `/poll`: answers with `respond(url)`, records every URL. */
function fakeFetch(respond: (url: URL) => { status: number; body: unknown } | 'network') {
  const urls: URL[] = [];
  const fetch: FetchLike = async (raw, init) => {
    const url = new URL(raw);
    urls.push(url);
    if (init.signal.aborted) throw new Error('aborted');
    const answer = respond(url);
    if (answer === 'network') throw new TypeError('fetch failed');
    return { status: answer.status, text: async () => JSON.stringify(answer.body) };
  };
  return { fetch, urls };
}

const pollAnswer = (events: ClientEvent[], cursor: string) => ({
  status: 200,
  body: { events, cursor, resets: [] },
});

function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.signature`;
}

interface Seen {
  readonly events: ClientEvent[];
  readonly states: { state: ConnectionState; retryInMs?: number; transport: string }[];
  readonly errors: SubscribeError[];
  unsubscribe(): void;
}

function start(options: Partial<SubscribeOptions>): Seen {
  const seen: Seen = { events: [], states: [], errors: [], unsubscribe: () => {} };
  seen.unsubscribe = subscribe({
    url: BASE,
    channels: ['c'],
    EventSource: FakeEventSource,
    fetch: fakeFetch(() => pollAnswer([], '1.cursor-0')).fetch,
    onEvent: (e) => seen.events.push(e),
    onStateChange: (state, info) =>
      seen.states.push({
        state,
        transport: info.transport,
        ...(info.retryInMs === undefined ? {} : { retryInMs: info.retryInMs }),
      }),
    onError: (error) => seen.errors.push(error),
    ...options,
  });
  return seen;
}

describe('Function: backoffDelay', () => {
  it('draws uniformly up to a ceiling that doubles per failure and stops at the cap', () => {
    const options = { baseMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 4, 50].map((a) => backoffCeiling(a, options))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect(backoffDelay(2, options, () => 0)).toBe(0);
    expect(backoffDelay(2, options, () => 0.5)).toBe(200);
    expect(backoffDelay(2, options, () => 0.999_999)).toBe(400);
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const delay = backoffDelay(attempt, options);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(backoffCeiling(attempt, options));
    }
  });
});

describe('Function: tokenExpiry', () => {
  it('reads exp from a signed JWT without verifying it', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = await new SignJWT({ channels: ['private/é*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience('sse-pubsub')
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode('a secret that is long enough for HS256'));
    expect(tokenExpiry(token)).toBe(exp);
  });

  it('gives undefined for anything that is not a JWT with a numeric exp', () => {
    expect(tokenExpiry('opaque-token')).toBeUndefined();
    expect(tokenExpiry('a.b.c')).toBeUndefined();
    expect(tokenExpiry('a.!!!.c')).toBeUndefined();
    expect(tokenExpiry(unsignedJwt({ sub: 'x' }))).toBeUndefined();
    expect(tokenExpiry(unsignedJwt({ exp: '123' }))).toBeUndefined();
  });
});

describe('Class: CursorStore', () => {
  it('writes a synchronous storage before save returns', () => {
    const storage = memoryStorage();
    const store = new CursorStore(storage, 'k', () => {});
    store.save('1.a');
    expect(storage.getItem('k')).toBe('1.a');
  });

  it('keeps one write in flight to an async storage and skips overtaken values', async () => {
    const written: string[] = [];
    const pending: (() => void)[] = [];
    const storage: CursorStorage = {
      getItem: async () => null,
      setItem: (_key, value) =>
        new Promise<void>((resolve) => {
          pending.push(() => {
            written.push(value);
            resolve();
          });
        }),
    };
    const store = new CursorStore(storage, 'k', () => {});
    for (const n of [1, 2, 3, 4]) store.save(`1.${n}`);
    expect(pending).toHaveLength(1);
    pending.shift()?.();
    await vi.waitFor(() => expect(pending).toHaveLength(1));
    pending.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(written).toEqual(['1.1', '1.4']);
    expect(pending).toHaveLength(0);
  });

  it('keys cursors by base URL and the set of channels', () => {
    expect(cursorKey(`${BASE}/`, ['b', 'a', 'b'])).toBe(cursorKey(BASE, ['a', 'b']));
    expect(cursorKey(BASE, ['a'])).not.toBe(cursorKey(BASE, ['a', 'b']));
  });
});

describe('Function: subscribe', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-11-01T00:00:00Z') });
    FakeEventSource.instances = [];
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks for envelopes and passes its cursor to every new EventSource', async () => {
    const seen = start({ timing: { backoffBaseMs: 100 }, random: () => 1 });
    await vi.advanceTimersByTimeAsync(0);
    const first = FakeEventSource.last;
    expect(first.url.searchParams.get('envelope')).toBe('1');
    expect(first.url.searchParams.get('lastEventId')).toBeNull();
    first.open();
    first.started('1.cursor-0');
    expect(seen.states.at(-1)).toMatchObject({ state: 'open', transport: 'sse' });
    first.send(event(1));
    first.send(event(2));
    first.fail(); // the server ended the stream

    await vi.advanceTimersByTimeAsync(100);
    const second = FakeEventSource.last;
    expect(second).not.toBe(first);
    expect(first.closed).toBe(true);
    expect(second.url.searchParams.get('lastEventId')).toBe('1.cursor-2');
    second.open();
    expect(seen.states.at(-1)).toMatchObject({ state: 'open' });
    second.send(event(3));
    expect(seen.events.map((e) => e.data)).toEqual(['event 1', 'event 2', 'event 3']);
    seen.unsubscribe();
    expect(second.closed).toBe(true);
  });

  it('ignores what a source dispatches after it was closed, so a switch cannot duplicate', async () => {
    const { fetch, urls } = fakeFetch((url) =>
      url.searchParams.get('cursor') === '1.cursor-2'
        ? pollAnswer([event(3)], '1.cursor-3')
        : pollAnswer([], url.searchParams.get('cursor') ?? '1.cursor-0'),
    );
    const seen = start({
      fetch,
      timing: { firstEventTimeoutMs: 1_000, stallCheckMs: 1_000, stallGraceMs: 500 },
    });
    await vi.advanceTimersByTimeAsync(0);
    const source = FakeEventSource.last;
    source.open();
    source.started('1.cursor-0');
    source.send(event(1));
    source.send(event(2));
    // Quiet: a stall check finds event 3 in the log, and the stream never delivers it.
    await vi.advanceTimersByTimeAsync(1_600);
    expect(source.closed).toBe(true);
    expect(seen.errors.map((e) => e.code)).toContain('stalled');
    // The proxy lets go of the rest of the chunk after the switch: ignored.
    source.send(event(3));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.events.map((e) => e.data)).toEqual(['event 1', 'event 2', 'event 3']);
    const poll = urls.filter((u) => u.searchParams.get('wait') !== '0')[0];
    expect(poll?.searchParams.get('cursor')).toBe('1.cursor-2');
    seen.unsubscribe();
  });

  it('falls back to polling when no stream opens in time, and tries streaming again later', async () => {
    let polls = 0;
    const { fetch, urls } = fakeFetch(() => {
      polls += 1;
      return pollAnswer(polls === 3 ? [event(1)] : [], polls >= 3 ? '1.cursor-1' : '1.cursor-0');
    });
    const seen = start({
      fetch,
      timing: { openTimeoutMs: 2_000, streamRetryMs: 10_000, pollWaitSeconds: 20 },
    });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(FakeEventSource.last.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.states.at(-1)).toMatchObject({ state: 'polling', transport: 'poll' });
    expect(seen.events.map((e) => e.data)).toEqual(['event 1']);
    // Long polls stop short of the time to try streaming again.
    const waits = urls.map((u) => Number(u.searchParams.get('wait')));
    expect(Math.max(...waits)).toBeLessThanOrEqual(10);

    await vi.advanceTimersByTimeAsync(10_000);
    const retry = FakeEventSource.last;
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(retry.url.searchParams.get('lastEventId')).toBe('1.cursor-1');
    retry.open();
    expect(seen.states.at(-1)).toMatchObject({ state: 'open', transport: 'sse' });
    seen.unsubscribe();
  });

  it('backs off with full jitter, growing per failure, and starts over once connected', async () => {
    const seen = start({
      fetch: fakeFetch(() => 'network').fetch,
      timing: { backoffBaseMs: 100, backoffMaxMs: 1_000 },
      random: () => 1,
    });
    await vi.advanceTimersByTimeAsync(0);
    for (let n = 0; n < 6; n += 1) {
      FakeEventSource.last.fail();
      await vi.advanceTimersByTimeAsync(1_000);
    }
    const waits = seen.states.filter((s) => s.state === 'reconnecting').map((s) => s.retryInMs);
    expect(waits).toEqual([100, 200, 400, 800, 1_000, 1_000]);

    FakeEventSource.last.open();
    FakeEventSource.last.started('1.cursor-0');
    FakeEventSource.last.fail();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(seen.states.filter((s) => s.state === 'reconnecting').at(-1)?.retryInMs).toBe(100);
    seen.unsubscribe();
  });

  it('reconnects with a fresh token shortly before the old one expires', async () => {
    const now = Date.now();
    const tokens = [
      unsignedJwt({ exp: Math.floor(now / 1000) + 120 }),
      unsignedJwt({ exp: Math.floor(now / 1000) + 240 }),
    ];
    const getToken = vi.fn(async () => tokens[getToken.mock.calls.length - 1] ?? 'none');
    const seen = start({ getToken, timing: { tokenRefreshMarginMs: 30_000 } });
    await vi.advanceTimersByTimeAsync(0);
    const first = FakeEventSource.last;
    expect(first.url.searchParams.get('token')).toBe(tokens[0]);
    first.open();
    first.started('1.cursor-0');
    first.send(event(1));

    await vi.advanceTimersByTimeAsync(89_000);
    expect(first.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000); // 30 s before exp
    expect(first.closed).toBe(true);
    expect(getToken).toHaveBeenCalledTimes(2);
    const second = FakeEventSource.last;
    expect(second.url.searchParams.get('token')).toBe(tokens[1]);
    expect(second.url.searchParams.get('lastEventId')).toBe('1.cursor-1');
    seen.unsubscribe();
  });

  it('answers a 401 with a new token at once: the stream cannot tell, so /poll is asked', async () => {
    let calls = 0;
    const getToken = vi.fn(async () => {
      calls += 1;
      return `token-${calls}`;
    });
    const { fetch, urls } = fakeFetch((url) =>
      url.searchParams.get('token') === 'token-1'
        ? { status: 401, body: { error: { code: 'invalid_token', message: 'token expired' } } }
        : pollAnswer([], '1.cursor-0'),
    );
    const seen = start({ getToken, fetch });
    await vi.advanceTimersByTimeAsync(0);
    FakeEventSource.last.fail(); // refused before open
    await vi.advanceTimersByTimeAsync(0);
    expect(urls[0]?.pathname).toBe('/poll');
    expect(urls[0]?.searchParams.get('wait')).toBe('0');
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.last.url.searchParams.get('token')).toBe('token-2');
    expect(seen.errors.map((e) => [e.code, e.status, e.fatal])).toEqual([
      ['unauthorized', 401, false],
    ]);
    seen.unsubscribe();
  });

  it('stops for good on a 401 when it has no way to get another token', async () => {
    const { fetch } = fakeFetch(() => ({
      status: 401,
      body: { error: { code: 'invalid_token', message: 'token expired' } },
    }));
    const seen = start({ token: 'static', fetch, transport: 'poll' });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.states.at(-1)).toMatchObject({ state: 'closed' });
    expect(seen.errors).toMatchObject([{ code: 'unauthorized', status: 401, fatal: true }]);
  });

  it('stops delivering when the app unsubscribes mid-batch, keeping the cursor of the last one', async () => {
    const storage = memoryStorage();
    const { fetch } = fakeFetch(() => pollAnswer([event(1), event(2), event(3)], '1.cursor-3'));
    const seen = start({
      fetch,
      storage,
      transport: 'poll',
      from: '1.cursor-0',
      onEvent: (e) => {
        seen.events.push(e);
        if (e.data === 'event 2') seen.unsubscribe();
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.events.map((e) => e.data)).toEqual(['event 1', 'event 2']);
    expect(storage.getItem(cursorKey(BASE, ['c']))).toBe('1.cursor-2');
  });

  it('reports a throwing onEvent and still moves past the event', async () => {
    const { fetch, urls } = fakeFetch((url) =>
      url.searchParams.get('cursor') === '1.cursor-0'
        ? pollAnswer([event(1)], '1.cursor-1')
        : pollAnswer([], url.searchParams.get('cursor') ?? '1.cursor-0'),
    );
    const seen = start({
      fetch,
      transport: 'poll',
      from: '1.cursor-0',
      onEvent: () => {
        throw new Error('app bug');
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.errors.map((e) => e.code)).toEqual(['handler']);
    expect(urls[1]?.searchParams.get('cursor')).toBe('1.cursor-1');
    seen.unsubscribe();
  });

  it('refuses options that cannot work', () => {
    const base = { url: BASE, channels: ['c'], onEvent: () => {} };
    expect(() => subscribe({ ...base, channels: [] })).toThrow(TypeError);
    expect(() => subscribe({ ...base, transport: 'sse', EventSource: null })).toThrow(
      /EventSource/,
    );
  });
});
