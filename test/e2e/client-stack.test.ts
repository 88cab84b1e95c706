/**
 * The client SDK (client/) against the whole local stack (DynamoDB Local, `POST /sns`,
 * the writer, `/events` and `/poll`), seen through a test proxy that can hold streams
 * back like a buffering proxy and cut every connection at once. Streams live 2 s, so
 * every test straddles several server-side stream ends.
 */
import { randomUUID } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientEvent,
  type ConnectionState,
  type CursorStorage,
  type ResetNotice,
  type SubscribeError,
  type SubscribeOptions,
  type SubscribeTiming,
  subscribe,
  type TransportKind,
} from '../../client/src/index.js';
import { encodeCursor } from '../../functions/core/cursor.js';
import { startLocalStack } from '../../local/stack.js';
import { type BufferingProxy, startBufferingProxy } from '../support/buffering-proxy.js';
import { localSnsClient } from '../support/local-sns-client.js';

type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;

/** Bounds scaled down so that fallbacks and recoveries happen within a test. */
const FAST: Partial<SubscribeTiming> = {
  openTimeoutMs: 1_500,
  firstEventTimeoutMs: 1_500,
  stallCheckMs: 1_500,
  stallGraceMs: 1_000,
  streamRetryMs: 3_000,
  pollWaitSeconds: 5,
  requestTimeoutMs: 5_000,
  backoffBaseMs: 100,
  backoffMaxMs: 1_000,
};

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newChannel = (prefix = 'client') => `${prefix}/${randomUUID().slice(0, 8)}`;

/** What one subscription saw. */
interface Recorder {
  readonly events: ClientEvent[];
  readonly resets: ResetNotice[];
  readonly states: { state: ConnectionState; transport: TransportKind }[];
  readonly errors: SubscribeError[];
  unsubscribe(): void;
  data(): string[];
  /** The state and transport it is in now. */
  now(): string;
}

describe('Function: subscribe', () => {
  let stack: LocalStack;
  let proxy: BufferingProxy;
  let sns: SNSClient;
  let running: Recorder[] = [];
  let problems: string[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      inMemory: true,
      env: {
        STREAM_LIFETIME_SECONDS: '2',
        STREAM_LIFETIME_JITTER: '0',
        RETRY_MS: '100',
        HEARTBEAT_SECONDS: '1',
      },
      log: {
        info: () => {},
        error: (message, fields) => problems.push(`stack: ${message} ${JSON.stringify(fields)}`),
      },
    });
    sns = localSnsClient(stack.url);
  });

  afterEach(async () => {
    for (const r of running) r.unsubscribe();
    running = [];
    await proxy?.close();
    expect(problems).toEqual([]);
    problems = [];
  });

  afterAll(async () => {
    sns?.destroy();
    await stack?.stop();
  });

  async function startProxy(): Promise<BufferingProxy> {
    proxy = await startBufferingProxy(stack.url);
    return proxy;
  }

  function record(options: Partial<SubscribeOptions> & { channels: readonly string[] }): Recorder {
    const recorder: Recorder = {
      events: [],
      resets: [],
      states: [],
      errors: [],
      unsubscribe: () => {},
      data: () => recorder.events.map((e) => e.data),
      now: () => {
        const last = recorder.states.at(-1);
        return last === undefined ? 'none' : `${last.state}:${last.transport}`;
      },
    };
    recorder.unsubscribe = subscribe({
      url: proxy.url,
      timing: FAST,
      onEvent: (event) => recorder.events.push(event),
      onReset: (reset) => recorder.resets.push(reset),
      onStateChange: (state, info) => recorder.states.push({ state, transport: info.transport }),
      onError: (error) => recorder.errors.push(error),
      ...options,
    });
    running.push(recorder);
    return recorder;
  }

  async function publish(channel: string, data: string, event?: string): Promise<void> {
    await sns.send(
      new PublishCommand({
        TopicArn: stack.topicArn,
        Message: data,
        MessageAttributes: {
          channel: { DataType: 'String', StringValue: channel },
          ...(event === undefined ? {} : { event: { DataType: 'String', StringValue: event } }),
        },
      }),
    );
  }

  /** Publishes `count` events named `<prefix> <n>`, `gapMs` apart; resolves with their data. */
  async function publishSeries(
    channel: string,
    prefix: string,
    count: number,
    gapMs: number,
    during?: (n: number) => void,
  ): Promise<string[]> {
    const sent: string[] = [];
    for (let n = 1; n <= count; n += 1) {
      const data = `${prefix} ${n}`;
      await publish(channel, data);
      sent.push(data);
      during?.(n);
      await pause(gapMs);
    }
    return sent;
  }

  /** Waits until the log holds `count` events on `channel` (publishing is asynchronous). */
  async function storedCount(channel: string, count: number): Promise<void> {
    const url = `${stack.url}/poll?channel=${encodeURIComponent(channel)}&cursor=earliest`;
    await expect
      .poll(async () => {
        const body = (await (await fetch(url)).json()) as { events: unknown[] };
        return body.events.length;
      })
      .toBe(count);
  }

  /** Waits until exactly `expected` arrived, then a while longer: a late duplicate fails. */
  async function expectExactly(recorder: Recorder, expected: string[]): Promise<void> {
    await expect.poll(() => recorder.data(), { timeout: 20_000 }).toEqual(expected);
    await pause(1_500);
    expect(recorder.data()).toEqual(expected);
  }

  const waitForState = (recorder: Recorder, state: string, timeout = 10_000) =>
    expect.poll(() => recorder.now(), { timeout }).toBe(state);

  it('streams with an injected EventSource: every event once, in order, across stream ends', async () => {
    await startProxy();
    const orders = newChannel('orders');
    const users = newChannel('users');
    const r = record({ channels: [orders, users], EventSource });
    await waitForState(r, 'open:sse');

    await publish(orders, '{"n":1}', 'order.created');
    await publish(users, 'line one\nline two');
    const sent = await publishSeries(orders, 'tick', 25, 120);
    await publish(users, 'last');
    // Order holds per channel (not across channels).
    const on = (channel: string) => () =>
      r.events.filter((e) => e.channel === channel).map((e) => e.data);
    await expect.poll(on(orders), { timeout: 20_000 }).toEqual(['{"n":1}', ...sent]);
    await expect.poll(on(users)).toEqual(['line one\nline two', 'last']);
    await pause(1_500);
    expect(r.events).toHaveLength(sent.length + 3);

    // The envelope says which channel and event each one is; ids are cursors.
    expect(r.events.find((e) => e.data === '{"n":1}')?.event).toBe('order.created');
    expect(r.events.find((e) => e.data === 'last')?.event).toBe('message');
    expect(r.events.every((e) => /^1\.[\w-]+$/.test(e.id))).toBe(true);
    expect(new Set(r.events.map((e) => e.id)).size).toBe(r.events.length);
    expect(new Date(r.events[0]?.time ?? '').getTime()).toBeGreaterThan(Date.now() - 60_000);

    // Streams end every 2 s: each reconnect was a new EventSource that named its cursor.
    const streams = proxy.requestsTo('/events');
    expect(streams.length).toBeGreaterThanOrEqual(3);
    expect(streams[0]?.query.get('lastEventId')).toBeNull();
    expect(streams[0]?.query.get('envelope')).toBe('1');
    for (const s of streams.slice(1)) expect(s.query.get('lastEventId')).toMatch(/^1\./);
    // It never polled; quiet spells were only checked (`wait=0`) against /poll.
    const longPolls = proxy.requestsTo('/poll').filter((p) => p.query.get('wait') !== '0');
    expect(longPolls).toEqual([]);
    expect(r.states.map((s) => s.transport)).not.toContain('poll');
    expect(r.resets).toEqual([]);
    expect(r.errors).toEqual([]);
  });

  it('long-polls when there is no EventSource, with the cursor on every request', async () => {
    await startProxy();
    expect(Reflect.get(globalThis, 'EventSource')).toBeUndefined();
    const channel = newChannel();
    const r = record({ channels: [channel] });
    await waitForState(r, 'polling:poll');

    const sent = await publishSeries(channel, 'polled', 12, 150);
    await publish(channel, 'named', 'item.added');
    await expectExactly(r, [...sent, 'named']);
    expect(r.events.at(-1)).toMatchObject({ channel, event: 'item.added' });

    const polls = proxy.requestsTo('/poll');
    expect(proxy.requestsTo('/events')).toEqual([]);
    expect(polls[0]?.query.get('cursor')).toBeNull();
    expect(polls[0]?.query.get('wait')).toBe('0');
    for (const p of polls.slice(1)) {
      expect(p.query.get('cursor')).toMatch(/^1\./);
      expect(p.query.get('wait')).toBe('5');
    }
    // Long-polling, not busy polling: a request only comes back with news, so there are
    // at most about as many requests as events (they are published 150 ms apart).
    expect(polls.length).toBeLessThanOrEqual(sent.length + 3);
  });

  it('falls back to polling behind a proxy that holds streams, and streams again once it stops', async () => {
    await startProxy();
    proxy.mode = 'all';
    const channel = newChannel('buffered');
    const r = record({ channels: [channel], EventSource });
    await waitForState(r, 'polling:poll');
    expect(r.errors.map((e) => e.code)).toContain('network');

    const first = await publishSeries(channel, 'while buffered', 6, 100);
    await expect.poll(() => r.data(), { timeout: 10_000 }).toEqual(first);
    expect(r.now()).toBe('polling:poll');

    // The proxy behaves again: after streamRetryMs the SDK tries a stream, which works.
    proxy.mode = 'off';
    await waitForState(r, 'open:sse', 15_000);
    const retried = proxy.requestsTo('/events').filter((s) => s.mode === 'off');
    expect(retried[0]?.query.get('lastEventId')).toBe(r.events.at(-1)?.id);

    const second = await publishSeries(channel, 'streamed', 6, 100);
    await expectExactly(r, [...first, ...second]);
    expect(r.now()).toBe('open:sse');
  });

  it('falls back when a proxy sends the headers but holds the body', async () => {
    await startProxy();
    proxy.mode = 'body';
    const channel = newChannel('held-body');
    const r = record({ channels: [channel], EventSource });
    // The stream opens, but its stream.open never arrives.
    await waitForState(r, 'polling:poll');
    expect(r.errors.map((e) => e.code)).toContain('stalled');
    const sent = await publishSeries(channel, 'held', 5, 100);
    await expectExactly(r, sent);
  });

  it('notices a resumed stream that a proxy holds back, and polls what it held', async () => {
    await startProxy();
    const channel = newChannel('held-later');
    // Quicker than the stack's 2 s streams, whose end would release what the proxy held.
    const timing = { ...FAST, stallCheckMs: 400, stallGraceMs: 400 };
    const r = record({ channels: [channel], EventSource, timing });
    await waitForState(r, 'open:sse');
    const first = await publishSeries(channel, 'before', 4, 100);
    await expect.poll(() => r.data(), { timeout: 10_000 }).toEqual(first);

    // From now on streams open but say nothing; a resumed stream sends no stream.open,
    // so only comparing with /poll can tell that it is held back.
    proxy.mode = 'body';
    proxy.dropAll();
    const second = await publishSeries(channel, 'after', 5, 100);
    await expectExactly(r, [...first, ...second]);
    expect(r.errors.map((e) => e.code)).toContain('stalled');
    expect(r.states.map((s) => `${s.state}:${s.transport}`)).toContain('polling:poll');
    // The poll after the switch started from the last event the stream delivered.
    const polls = proxy.requestsTo('/poll').filter((p) => p.query.get('wait') !== '0');
    expect(polls[0]?.query.get('cursor')).toBe(r.events[first.length - 1]?.id);
  });

  for (const transport of ['sse', 'poll'] as const) {
    it(`delivers every event exactly once, in order, while connections are killed (${transport})`, async () => {
      await startProxy();
      const channel = newChannel(`drops-${transport}`);
      const r = record({ channels: [channel], EventSource, transport });
      await waitForState(r, transport === 'sse' ? 'open:sse' : 'polling:poll');

      let drops = 0;
      const sent = await publishSeries(channel, 'e', 40, 60, (n) => {
        if (n % 5 === 0) drops += proxy.dropAll();
      });
      await expectExactly(r, sent);
      expect(drops).toBeGreaterThanOrEqual(8);
      const path = transport === 'sse' ? '/events' : '/poll';
      expect(proxy.requestsTo(path).length).toBeGreaterThanOrEqual(8);
      expect(r.states.some((s) => s.state === 'reconnecting')).toBe(true);
    });
  }

  it('resumes from stored cursors in a new subscription, on either transport, with async storage', async () => {
    await startProxy();
    const channel = newChannel('resume');
    const items = new Map<string, string>();
    const writes: string[] = [];
    // AsyncStorage-like: every call takes a while.
    const storage: CursorStorage = {
      getItem: async (key) => {
        await pause(20);
        return items.get(key) ?? null;
      },
      setItem: async (key, value) => {
        await pause(20);
        items.set(key, value);
        writes.push(value);
      },
    };

    const first = record({ channels: [channel], EventSource, storage });
    await waitForState(first, 'open:sse');
    const one = await publishSeries(channel, 'one', 3, 50);
    await expect.poll(() => first.data()).toEqual(one);
    await expect.poll(() => [...items.values()]).toEqual([first.events.at(-1)?.id]);
    first.unsubscribe();

    const two = await publishSeries(channel, 'two', 3, 50);
    const second = record({ channels: [channel], storage, transport: 'poll' });
    await expectExactly(second, two);
    second.unsubscribe();

    const three = await publishSeries(channel, 'three', 3, 50);
    const streamsBefore = proxy.requestsTo('/events').length;
    const third = record({ channels: [channel], EventSource, storage });
    await expectExactly(third, three);
    expect(proxy.requestsTo('/events')[streamsBefore]?.query.get('lastEventId')).toBe(
      second.events.at(-1)?.id,
    );
    expect(writes.length).toBeGreaterThan(0);
  });

  for (const transport of ['sse', 'poll'] as const) {
    it(`surfaces stream.reset through onReset and moves on (${transport})`, async () => {
      await startProxy();
      const channel = newChannel(`reset-${transport}`);
      await publish(channel, 'old');
      await storedCount(channel, 1);
      // A cursor beyond the newest event: the server says so, then goes on from there.
      const ahead = encodeCursor(new Map([[channel, 1_000]]));
      const r = record({ channels: [channel], EventSource, transport, from: ahead });
      await expect.poll(() => r.resets).toEqual([{ channel, reason: 'ahead', transport }]);
      await waitForState(r, transport === 'sse' ? 'open:sse' : 'polling:poll');
      await publish(channel, 'after the reset');
      await expectExactly(r, ['after the reset']);
    });
  }

  it('reports a stored cursor the server cannot read as a reset, and starts from the latest', async () => {
    await startProxy();
    const channel = newChannel('garbage');
    const storage: CursorStorage = { getItem: () => 'not-a-cursor', setItem: () => {} };
    const r = record({ channels: [channel], EventSource, storage });
    await expect
      .poll(() => r.resets)
      .toEqual([{ channel, reason: 'invalid_cursor', transport: 'sse' }]);
    await waitForState(r, 'open:sse');
    await publish(channel, 'fresh');
    await expectExactly(r, ['fresh']);
  });

  for (const transport of ['sse', 'poll'] as const) {
    it(`stops with a fatal error when the server refuses the request (${transport})`, async () => {
      await startProxy();
      const r = record({ channels: ['not a channel!'], EventSource, transport });
      await waitForState(r, `closed:${transport}`);
      const fatal = r.errors.find((e) => e.fatal);
      expect(fatal).toMatchObject({ code: 'bad_request', status: 400 });
      expect(fatal?.message).toContain('channel');
      const requests = proxy.requests.length;
      await pause(1_000);
      expect(proxy.requests.length).toBe(requests);
    });
  }

  it('unsubscribe closes the connection and delivers nothing more', async () => {
    await startProxy();
    const channel = newChannel('bye');
    const r = record({ channels: [channel], EventSource });
    await waitForState(r, 'open:sse');
    await publish(channel, 'before');
    await expect.poll(() => r.data()).toEqual(['before']);
    r.unsubscribe();
    expect(r.now()).toBe('closed:sse');
    await publish(channel, 'after');
    await pause(1_500);
    expect(r.data()).toEqual(['before']);
    const streams = proxy.requestsTo('/events').length;
    await pause(2_500);
    expect(proxy.requestsTo('/events').length).toBe(streams);
  });
});
