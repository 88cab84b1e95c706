/**
 * The Web Function host as AWS starts it: the bundle `cdk synth` made for the revision
 * (`-c ssePubSub:subscribeHost=webFunction`), run by Node 24 in its own process with the
 * revision's environment and `AWS_LAMBDA_HTTP_ENDPOINT`, reading DynamoDB Local. The
 * writer is this test process, appending through `DynamoDBEventLog` as the writer Lambda
 * does: no in-process nudge can reach the server, which learns of events by polling, as
 * on AWS. Clients: the npm `eventsource` (reconnects with `Last-Event-ID` like a
 * browser) and `fetch`.
 */
import { randomUUID } from 'node:crypto';
import { connect as connectSocket, type Socket } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBChangeIndex } from '../../functions/adapters/dynamodb/change-index.js';
import { DynamoDBEventLog } from '../../functions/adapters/dynamodb/event-log.js';
import { signSubscriberToken } from '../../publisher/index.js';
import { startCuttingProxy } from '../support/cutting-proxy.js';
import { createEventLogTable, localDynamoClient } from '../support/dynamodb.js';
import { metricTotal, metricValues, parseEmf } from '../support/emf.js';
import { startEndpointProxy } from './harness/endpoint-proxy.js';
import type { WebServerProcess } from './harness/web-server-process.js';
import { harnessContext, revisionEnvironment, startBundle } from './support.js';

interface Received {
  readonly type: string;
  readonly data: string;
  readonly id: string;
}

interface Subscriber {
  readonly events: Received[];
  opens: number;
  readonly source: EventSource;
  messages(): string[];
  ofType(type: string): Received[];
}

const EVENT_TYPES = ['message', 'stream.open', 'stream.reset'];
const SECRET = 'web-function-test-secret-of-32-bytes-or-more';

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Feature: the Web Function bundle under Node 24, with the writer in another process', () => {
  let client: DynamoDBClient;
  let tableName: string;
  let writer: DynamoDBEventLog;
  let server: WebServerProcess;
  const servers: WebServerProcess[] = [];
  const sources: EventSource[] = [];
  const sockets: Socket[] = [];
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    client = localDynamoClient();
    tableName = await createEventLogTable(client);
    // The writer Lambda's environment says whether it records the change index.
    const shards = harnessContext().webFunction.environment.CHANGE_INDEX_SHARDS;
    writer = new DynamoDBEventLog({
      client,
      tableName,
      ...(shards !== undefined && {
        changes: new DynamoDBChangeIndex({ client, tableName, shards: Number(shards) }),
      }),
    });
    server = await startBundle(revisionEnvironment({ TABLE_NAME: tableName }));
    servers.push(server);
  });

  afterEach(async () => {
    for (const source of sources.splice(0)) source.close();
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const close of closers.splice(0)) await close();
  });

  afterAll(async () => {
    for (const s of servers) s.kill();
    client.destroy();
  });

  const newChannel = (prefix = 'wf') => `${prefix}/${randomUUID()}`;

  async function publish(channel: string, data: string): Promise<void> {
    await writer.append(channel, [{ event: 'message', data, dedupeKey: randomUUID() }]);
  }

  function subscribe(url: string): Subscriber {
    const source = new EventSource(url);
    sources.push(source);
    const target: Subscriber = {
      events: [],
      opens: 0,
      source,
      messages() {
        return this.events.filter((e) => e.type === 'message').map((e) => e.data);
      },
      ofType(type) {
        return this.events.filter((e) => e.type === type);
      },
    };
    source.addEventListener('open', () => {
      target.opens += 1;
    });
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (event: MessageEvent) => {
        if (source.readyState === EventSource.CLOSED) return;
        target.events.push({ type, data: String(event.data), id: event.lastEventId });
      });
    }
    return target;
  }

  /** A raw HTTP/1.1 request on its own connection; resolves with everything received. */
  async function raw(
    url: string,
    path: string,
  ): Promise<{ text(): string; closed: Promise<void> }> {
    const { port } = new URL(url);
    const socket = connectSocket(Number(port), '127.0.0.1');
    sockets.push(socket);
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`);
    return { text: () => text, closed };
  }

  it('is the revision the synth made: nodejs24.x, index.mjs, an explicit timeout above the stream lifetime', () => {
    const { nodeVersion, webFunction } = harnessContext();
    expect(nodeVersion).toMatch(/^v24\./);
    expect(webFunction.runtime).toBe('nodejs24.x');
    expect(webFunction.entryPoint).toBe('index.mjs');
    const lifetime = Number(webFunction.environment.STREAM_LIFETIME_SECONDS);
    expect(webFunction.timeoutSeconds).toBeGreaterThan(lifetime);
    expect(webFunction.environment.REQUEST_TIMEOUT_SECONDS).toBe(
      String(webFunction.timeoutSeconds),
    );
    expect(webFunction.maxConcurrencyPerEnvironment).toBeGreaterThanOrEqual(1);
    expect(Number(webFunction.environment.HEARTBEAT_SECONDS)).toBeLessThan(30);
  });

  it('delivers every event exactly once, in order, through connections cut inside a data: line', async () => {
    // Prepare: a proxy that cuts the first 4 connections a few bytes into their third data: line
    const channel = newChannel();
    const proxy = await startCuttingProxy(new URL(server.url), 4);
    closers.push(() => proxy.close());
    const subscriber = subscribe(`${proxy.url}/events?channel=${encodeURIComponent(channel)}`);
    await waitFor(() => subscriber.ofType('stream.open').length === 1, 10_000, 'stream.open');

    // Act
    const sent = Array.from({ length: 12 }, (_, i) => `e${i + 1}`);
    for (const data of sent) {
      await publish(channel, data);
      await pause(150);
    }
    await waitFor(() => subscriber.messages().length >= 12, 30_000, 'all 12 events');
    await pause(1_500);

    // Assess
    expect(proxy.cuts()).toBe(4);
    expect(subscriber.opens).toBeGreaterThanOrEqual(5);
    expect(subscriber.messages()).toEqual(sent);
    expect(subscriber.ofType('stream.reset')).toEqual([]);
  });

  it('resumes both channels of an envelope=1 stream from one cursor', async () => {
    const a = newChannel('room-a');
    const b = newChannel('room-b');
    const url = `${server.url}/events?channel=${a}&channel=${b}&envelope=1`;
    const first = subscribe(url);
    await waitFor(() => first.ofType('stream.open').length === 1, 10_000, 'stream.open');
    await publish(a, 'a1');
    await publish(b, 'b1');
    await waitFor(() => first.messages().length === 2, 10_000, 'the first two');
    const lastId = first.events.at(-1)?.id ?? '';
    first.source.close();

    await publish(a, 'a2');
    await publish(b, 'b2');
    await publish(b, 'b3');
    const second = subscribe(`${url}&lastEventId=${encodeURIComponent(lastId)}`);
    await waitFor(() => second.messages().length === 3, 10_000, 'the missed three');

    const of = (s: Subscriber, channel: string) =>
      s
        .messages()
        .map((m) => JSON.parse(m) as { channel: string; data: string; id: string })
        .filter((e) => e.channel === channel)
        .map((e) => e.data);
    expect([of(first, a), of(first, b)]).toEqual([['a1'], ['b1']]);
    expect([of(second, a), of(second, b)]).toEqual([['a2'], ['b2', 'b3']]);
    expect(second.ofType('stream.open').map((e) => e.id)).toEqual([lastId]);
  });

  it('GET /poll follows a cursor, and a long poll answers once another process appends', async () => {
    const channel = newChannel('poll');
    const first = await fetch(`${server.url}/poll?channel=${channel}`);
    const { cursor, events } = (await first.json()) as { cursor: string; events: unknown[] };
    expect(first.status).toBe(200);
    expect(events).toEqual([]);

    const waiting = fetch(`${server.url}/poll?channel=${channel}&wait=20&lastEventId=${cursor}`);
    await pause(300);
    await publish(channel, 'p1');
    const answer = (await (await waiting).json()) as { events: { data: string }[]; cursor: string };

    expect(answer.events.map((e) => e.data)).toEqual(['p1']);
    const after = await fetch(`${server.url}/poll?channel=${channel}&lastEventId=${answer.cursor}`);
    expect(((await after.json()) as { events: unknown[] }).events).toEqual([]);
  });

  it('answers the contract errors: 400 naming the parameter, 404', async () => {
    const bad = await fetch(`${server.url}/poll?channel=a&wait=21`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^wait:/);
    const missing = await fetch(`${server.url}/nowhere`);
    expect(missing.status).toBe(404);
  });

  describe('with private channels', () => {
    let secured: WebServerProcess;

    beforeAll(async () => {
      // The revision gets AUTH_SECRET_ARN with `auth`; the test gives the secret itself
      // (the same variable contract), since there is no Secrets Manager here.
      secured = await startBundle(
        revisionEnvironment({
          TABLE_NAME: tableName,
          AUTH_PRIVATE_PREFIXES: 'private/',
          AUTH_SECRET: SECRET,
        }),
      );
      servers.push(secured);
    });

    it('refuses a stream without a token (401) or for another channel (403), serves one with it', async () => {
      const channel = newChannel('private/user');
      const token = await signSubscriberToken({ channels: [channel], ttl: 60, secret: SECRET });
      const other = await signSubscriberToken({
        channels: ['private/other'],
        ttl: 60,
        secret: SECRET,
      });

      expect((await fetch(`${secured.url}/events?channel=${channel}`)).status).toBe(401);
      expect((await fetch(`${secured.url}/events?channel=${channel}&token=${other}`)).status).toBe(
        403,
      );
      const subscriber = subscribe(`${secured.url}/events?channel=${channel}&token=${token}`);
      await waitFor(() => subscriber.ofType('stream.open').length === 1, 10_000, 'stream.open');
      await publish(channel, 'secret news');
      await waitFor(() => subscriber.messages().length === 1, 10_000, 'the event');
      expect(subscriber.messages()).toEqual(['secret news']);
    });

    it('ends the stream at the token expiry, after a complete event', async () => {
      const channel = newChannel('private/user');
      const token = await signSubscriberToken({ channels: [channel], ttl: 2, secret: SECRET });
      const stream = await raw(secured.url, `/events?channel=${channel}&token=${token}`);
      await waitFor(() => stream.text().endsWith('\r\n0\r\n\r\n'), 10_000, 'the stream to end');
      expect(stream.text()).toContain('event: stream.open');
    });
  });

  it("learns of news from the change index the writer keeps, with the channels' own polls ten minutes apart", async () => {
    expect(harnessContext().webFunction.environment.CHANGE_INDEX_SHARDS).toBe('1');
    const slow = await startBundle(
      revisionEnvironment({ TABLE_NAME: tableName, SAFETY_POLL_SECONDS: '600' }),
    );
    servers.push(slow);
    const channels = Array.from({ length: 6 }, () => newChannel('user'));
    const subscribers = channels.map((c) => subscribe(`${slow.url}/events?channel=${c}`));
    await waitFor(
      () => subscribers.every((s) => s.ofType('stream.open').length === 1),
      10_000,
      'streams',
    );

    for (const [i, c] of channels.entries()) await publish(c, `news ${i}`);

    await waitFor(() => subscribers.every((s) => s.messages().length === 1), 15_000, 'the events');
    expect(subscribers.map((s) => s.messages())).toEqual(channels.map((_, i) => [`news ${i}`]));
  });

  it('still delivers, exactly once and in order, when the index entries are lost', async () => {
    const safety = await startBundle(
      revisionEnvironment({ TABLE_NAME: tableName, SAFETY_POLL_SECONDS: '2' }),
    );
    servers.push(safety);
    const channel = newChannel('user');
    const subscriber = subscribe(`${safety.url}/events?channel=${channel}`);
    await waitFor(() => subscriber.ofType('stream.open').length === 1, 10_000, 'stream.open');
    // A writer whose index entries never arrive.
    const forgetful = new DynamoDBEventLog({ client, tableName });
    const sent = ['s1', 's2', 's3'];
    for (const data of sent) {
      await forgetful.append(channel, [{ event: 'message', data, dedupeKey: randomUUID() }]);
    }

    // The safety sweep runs every 2 s; the channel's own last-resort poll is 10 s away.
    await waitFor(() => subscriber.messages().length >= 3, 8_000, 'the safety sweep');
    await pause(2_500);
    expect(subscriber.messages()).toEqual(sent);
  });

  it('answers 503 with Retry-After beyond MAX_CONNECTIONS, and never falls over', async () => {
    const small = await startBundle(
      revisionEnvironment({ TABLE_NAME: tableName, MAX_CONNECTIONS: '2' }),
    );
    servers.push(small);
    const channel = newChannel('busy');
    const held = [
      subscribe(`${small.url}/events?channel=${channel}`),
      subscribe(`${small.url}/events?channel=${channel}`),
    ];
    await waitFor(
      () => held.every((s) => s.ofType('stream.open').length === 1),
      10_000,
      'two streams',
    );

    const refused = await fetch(`${small.url}/events?channel=${channel}`);

    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'over_capacity',
    );
    await publish(channel, 'still serving');
    await waitFor(() => held.every((s) => s.messages().length === 1), 10_000, 'the event on both');
    expect(small.child.exitCode).toBeNull();
  });

  it('on SIGTERM ends its streams after a complete event; clients resume on another environment, losing and repeating nothing', async () => {
    // Prepare: two environments behind one endpoint; the first takes every connection
    // while it listens
    const retired = await startBundle(revisionEnvironment({ TABLE_NAME: tableName }));
    const next = await startBundle(revisionEnvironment({ TABLE_NAME: tableName }));
    servers.push(retired, next);
    const endpoint = await startEndpointProxy([retired.port, next.port]);
    closers.push(() => endpoint.close());
    const channel = newChannel('retire');
    const subscribers = [0, 1, 2].map(() =>
      subscribe(`${endpoint.url}/events?channel=${encodeURIComponent(channel)}`),
    );
    // One reader straight on the retired environment, to see how its stream ends.
    const direct = await raw(retired.url, `/events?channel=${encodeURIComponent(channel)}`);
    await waitFor(
      () => subscribers.every((s) => s.ofType('stream.open').length === 1),
      10_000,
      'the streams to open',
    );
    expect(endpoint.connectionsByPort().get(retired.port)).toBe(3);

    // Act: events keep coming while the environment is retired
    const sent = Array.from({ length: 30 }, (_, i) => `r${i + 1}`);
    let exit: Promise<number | null> | undefined;
    for (const [i, data] of sent.entries()) {
      await publish(channel, data);
      if (i === 9) {
        await waitFor(
          () => subscribers.every((s) => s.messages().length >= 8),
          10_000,
          'the first events',
        );
        exit = retired.terminate();
      }
      await pause(100);
    }
    const code = await exit;
    await waitFor(() => subscribers.every((s) => s.messages().length >= 30), 30_000, 'every event');
    await pause(1_500);

    // Assess
    expect(code).toBe(0);
    expect(retired.lines().some((l) => l.includes('"message":"shut down"'))).toBe(true);
    // Its embedded metrics, written on the way out: four streams, all ended by the shutdown.
    const metrics = parseEmf(retired.lines().join('\n'));
    expect(metricTotal(metrics, 'StreamsOpened')).toBe(4);
    expect(metricTotal(metrics, 'StreamsEnded', { Reason: 'shutdown' })).toBe(4);
    expect(metricTotal(metrics, 'EventsDelivered')).toBeGreaterThanOrEqual(4 * 8);
    expect(metricValues(metrics, 'DeliveryLag').length).toBeGreaterThanOrEqual(4 * 8);
    expect(metrics.every((r) => r.namespace === 'SsePubSub')).toBe(true);
    await direct.closed;
    // A clean end: the chunked terminator right after a complete event
    expect(direct.text()).toMatch(/\n\n\r\n0\r\n\r\n$/);
    for (const s of subscribers) {
      expect(s.messages()).toEqual(sent);
      expect(s.opens).toBe(2);
      expect(s.ofType('stream.reset')).toEqual([]);
    }
    expect(endpoint.connectionsByPort().get(next.port)).toBe(3);
  });
});
