/**
 * End to end: DynamoDB Local → DynamoDBEventLog → SharedFeed → the routes → the Node
 * adapter on a real port → the npm `eventsource` client (which reconnects with
 * `Last-Event-ID` and honours `retry:` like a browser) and `fetch` for `/poll`.
 */
import { randomUUID } from 'node:crypto';
import { connect as connectSocket, type Socket } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBEventLog } from '../../functions/adapters/dynamodb/event-log.js';
import {
  type Router,
  type SubscribeServer,
  startSubscribeServer,
} from '../../functions/adapters/node/http-adapter.js';
import { encodeCursor } from '../../functions/core/cursor.js';
import type {
  AppendOutcome,
  EventLog,
  NewEvent,
  ReadOptions,
  RetainedRange,
  StoredEvent,
} from '../../functions/core/event-log.js';
import { MemoryEventLog } from '../../functions/core/memory-event-log.js';
import { SharedFeed } from '../../functions/core/shared-feed.js';
import type { StreamSummary } from '../../functions/core/stream-session.js';
import { createRouter } from '../../functions/http/router.js';
import {
  DEFAULT_SUBSCRIBE_CONFIG,
  type SubscribeConfig,
} from '../../functions/http/subscribe-config.js';
import { ManualClock } from '../contract/event-log-contract.js';
import { createEventLogTable, localDynamoClient } from '../support/dynamodb.js';

/** Counts the reads of the log per channel, to show who pays for them. */
class CountingLog implements EventLog {
  readonly #reads = new Map<string, number>();
  constructor(readonly inner: EventLog) {}
  append(channel: string, events: readonly NewEvent[]): Promise<AppendOutcome[]> {
    return this.inner.append(channel, events);
  }
  read(channel: string, after: number, options?: ReadOptions): Promise<StoredEvent[]> {
    this.#reads.set(channel, this.readsOf(channel) + 1);
    return this.inner.read(channel, after, options);
  }
  retained(channel: string): Promise<RetainedRange> {
    return this.inner.retained(channel);
  }
  readsOf(channel: string): number {
    return this.#reads.get(channel) ?? 0;
  }
}

interface Stack {
  readonly url: string;
  readonly server: SubscribeServer;
  readonly log: CountingLog;
  readonly feed: SharedFeed;
  readonly config: SubscribeConfig;
}

interface Received {
  readonly type: string;
  readonly data: string;
  readonly id: string;
}

/** One subscriber: every event it got, over however many connections. */
interface Subscriber {
  readonly events: Received[];
  /** Connections opened (the `open` event of each). */
  opens: number;
  source: EventSource;
  /** Payloads of the plain events, in arrival order. */
  messages(): string[];
  ofType(type: string): Received[];
}

const EVENT_TYPES = ['message', 'update', 'stream.open', 'stream.reset'];

/** Waits until `condition` holds, checking every 10 ms; fails after `timeoutMs`. */
async function waitFor(
  condition: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Feature: SSE and poll end to end (DynamoDB Local, Node adapter, npm eventsource)', () => {
  let client: DynamoDBClient;
  let tableName: string;
  let dynamoLog: DynamoDBEventLog;
  let stacks: Stack[] = [];
  let sources: EventSource[] = [];
  let sockets: Socket[] = [];
  let problems: unknown[] = [];

  beforeAll(async () => {
    client = localDynamoClient();
    tableName = await createEventLogTable(client);
    dynamoLog = new DynamoDBEventLog({ client, tableName });
  });

  afterAll(() => {
    client.destroy();
  });

  afterEach(async () => {
    for (const source of sources) source.close();
    for (const socket of sockets) socket.destroy();
    sockets = [];
    for (const stack of stacks) {
      await stack.server.close();
      stack.feed.close();
    }
    sources = [];
    stacks = [];
    const seen = problems;
    problems = [];
    expect(seen).toEqual([]);
  });

  async function startStack(
    overrides: Partial<SubscribeConfig> = {},
    options: {
      log?: EventLog;
      clock?: () => number;
      retentionMs?: number;
      wrap?: (router: Router) => Router;
    } = {},
  ): Promise<Stack> {
    const config: SubscribeConfig = {
      ...DEFAULT_SUBSCRIBE_CONFIG,
      retryMs: 50,
      heartbeatMs: 1_000,
      pollMinMs: 25,
      pollMaxMs: 100,
      ...overrides,
    };
    const log = new CountingLog(options.log ?? dynamoLog);
    const feed = new SharedFeed(log, {
      interval: { minMs: config.pollMinMs, maxMs: config.pollMaxMs },
      retentionMs: options.retentionMs,
      clock: options.clock,
      onError: (error) => problems.push(error),
    });
    const routes = createRouter({ config, feed: () => feed, clock: Date.now, random: Math.random });
    const server = await startSubscribeServer({
      router: options.wrap?.(routes) ?? routes,
      onError: (error) => problems.push(error),
    });
    const stack = { url: server.url, server, log, feed, config };
    stacks.push(stack);
    return stack;
  }

  /** Opens an EventSource; events of a source closed meanwhile are not counted. */
  function connect(url: string, subscriber?: Subscriber): Subscriber {
    const source = new EventSource(url);
    sources.push(source);
    const target: Subscriber = subscriber ?? {
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
    target.source = source;
    source.addEventListener('open', () => {
      target.opens += 1;
    });
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (event: MessageEvent) => {
        // A closed EventSource still dispatches the rest of a chunk it was parsing.
        if (source.readyState === EventSource.CLOSED) return;
        target.events.push({ type, data: String(event.data), id: event.lastEventId });
      });
    }
    return target;
  }

  const eventsUrl = (stack: Stack, query: string) => `${stack.url}/events?${query}`;
  const newChannel = (prefix = 'e2e') => `${prefix}/${randomUUID()}`;

  async function publish(channel: string, data: string, event = 'message'): Promise<number> {
    const [outcome] = await dynamoLog.append(channel, [{ event, data, dedupeKey: randomUUID() }]);
    return outcome?.position ?? 0;
  }

  async function publishPaced(channel: string, datas: readonly string[], gapMs: number) {
    for (const data of datas) {
      await publish(channel, data);
      await pause(gapMs);
    }
  }

  async function getJson(url: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(url);
    return { status: response.status, body: await response.json() };
  }

  interface PollBody {
    events: { id: string; channel: string; event: string; data: string; time: string }[];
    cursor: string;
    resets: unknown[];
  }

  const numbered = (prefix: string, from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

  describe('Endpoint: GET /events', () => {
    it('delivers every event exactly once, in order, when the server cuts the connection every 3 events', async () => {
      // Prepare
      const stack = await startStack();
      const channel = newChannel();
      const connections = new Set<Socket>();
      stack.server.server.on('connection', (socket: Socket) => {
        connections.add(socket);
        socket.once('close', () => connections.delete(socket));
      });
      const subscriber = connect(eventsUrl(stack, `channel=${channel}`));
      await waitFor(() => subscriber.ofType('stream.open').length === 1, 10_000, 'stream.open');
      let cuts = 0;
      subscriber.source.addEventListener('message', () => {
        if (subscriber.messages().length % 3 === 0) {
          cuts += 1;
          for (const socket of connections) socket.destroy();
        }
      });

      // Act
      await publishPaced(channel, numbered('m', 1, 30), 15);
      await waitFor(() => subscriber.messages().length >= 30, 20_000, '30 events');
      await publish(channel, 'sentinel');
      await waitFor(() => subscriber.messages().includes('sentinel'), 10_000, 'the sentinel');

      // Assess
      expect(subscriber.messages()).toEqual([...numbered('m', 1, 30), 'sentinel']);
      expect(cuts).toBeGreaterThanOrEqual(10);
      expect(subscriber.opens).toBeGreaterThanOrEqual(10);
    }, 60_000);

    it('delivers every event exactly once, in order, when the client reconnects itself with lastEventId every 3 events', async () => {
      // Prepare
      const stack = await startStack();
      const channel = newChannel();
      const base = eventsUrl(stack, `channel=${channel}`);
      const subscriber = connect(base);
      await waitFor(() => subscriber.ofType('stream.open').length === 1, 10_000, 'stream.open');
      let reconnects = 0;
      const rotate = (): void => {
        const source = subscriber.source;
        source.addEventListener('message', () => {
          if (source.readyState === EventSource.CLOSED) return;
          if (subscriber.messages().length % 3 !== 0) return;
          const last = subscriber.events.at(-1)?.id ?? '';
          source.close();
          reconnects += 1;
          connect(`${base}&lastEventId=${encodeURIComponent(last)}`, subscriber);
          rotate();
        });
      };
      rotate();

      // Act
      await publishPaced(channel, numbered('m', 1, 30), 15);
      await waitFor(() => subscriber.messages().length >= 30, 20_000, '30 events');
      await publish(channel, 'sentinel');
      await waitFor(() => subscriber.messages().includes('sentinel'), 10_000, 'the sentinel');

      // Assess
      expect(subscriber.messages()).toEqual([...numbered('m', 1, 30), 'sentinel']);
      expect(reconnects).toBe(10);
    }, 60_000);

    it('delivers every event exactly once across lifetime rotations', async () => {
      // Prepare
      const stack = await startStack({ lifetimeMs: 1_500, lifetimeJitter: 0 });
      const channel = newChannel();
      const subscriber = connect(eventsUrl(stack, `channel=${channel}`));
      await waitFor(() => subscriber.ofType('stream.open').length === 1, 10_000, 'stream.open');

      // Act: about 4.5 s of events against a 1.5 s lifetime
      await publishPaced(channel, numbered('m', 1, 30), 150);
      await publish(channel, 'sentinel');
      await waitFor(() => subscriber.messages().includes('sentinel'), 10_000, 'the sentinel');

      // Assess
      expect(subscriber.messages()).toEqual([...numbered('m', 1, 30), 'sentinel']);
      expect(subscriber.opens).toBeGreaterThanOrEqual(3);
      expect(subscriber.ofType('stream.reset')).toEqual([]);
    }, 60_000);

    it('delivers every event exactly once across byte-budget rotations', async () => {
      // Prepare: each event is ~140 bytes on the wire, so a stream ends every few events
      const stack = await startStack({ byteBudget: 500 });
      const channel = newChannel();
      const subscriber = connect(eventsUrl(stack, `channel=${channel}`));
      await waitFor(() => subscriber.ofType('stream.open').length === 1, 10_000, 'stream.open');

      // Act
      await publishPaced(channel, numbered('m', 1, 30), 10);
      await publish(channel, 'sentinel');
      await waitFor(() => subscriber.messages().includes('sentinel'), 20_000, 'the sentinel');

      // Assess
      expect(subscriber.messages()).toEqual([...numbered('m', 1, 30), 'sentinel']);
      expect(subscriber.opens).toBeGreaterThanOrEqual(5);
    }, 60_000);

    it('replays the whole retained history for lastEventId=earliest, then goes on live', async () => {
      // Prepare
      const stack = await startStack();
      const channel = newChannel();
      await publish(channel, 'first line\nsecond line');
      await publish(channel, 'named', 'update');
      for (const data of numbered('m', 3, 12)) await publish(channel, data);

      // Act
      const subscriber = connect(eventsUrl(stack, `channel=${channel}&lastEventId=earliest`));
      await waitFor(() => subscriber.messages().length === 11, 10_000, 'the history');
      await publish(channel, 'live');
      await waitFor(() => subscriber.messages().includes('live'), 10_000, 'the live event');

      // Assess
      expect(subscriber.events[0]?.type).toBe('stream.open');
      expect(subscriber.ofType('update').map((e) => e.data)).toEqual(['named']);
      expect(subscriber.messages()).toEqual([
        'first line\nsecond line',
        ...numbered('m', 3, 12),
        'live',
      ]);
    });

    it('sends one stream.reset (expired) for a cursor whose next events expired, then the oldest retained', async () => {
      // Prepare: events 1–5 appended 61 s ago, 6–10 appended 31 s ago, 60 s retention
      const clock = new ManualClock();
      const retentionMs = 60_000;
      const log = new DynamoDBEventLog({ client, tableName, retentionMs, clock: clock.read });
      const stack = await startStack({}, { log, clock: clock.read, retentionMs });
      const channel = newChannel();
      const append = (data: string) =>
        log.append(channel, [{ event: 'message', data, dedupeKey: randomUUID() }]);
      for (const data of numbered('old', 1, 5)) await append(data);
      clock.advance(30_000);
      for (const data of numbered('m', 6, 10)) await append(data);
      clock.advance(31_000);
      const cursor = encodeCursor(new Map([[channel, 2]]));

      // Act
      const subscriber = connect(eventsUrl(stack, `channel=${channel}&lastEventId=${cursor}`));
      await waitFor(() => subscriber.messages().length === 5, 10_000, 'the retained events');
      await append('live');
      await waitFor(() => subscriber.messages().includes('live'), 10_000, 'the live event');

      // Assess
      // Every stream opens with stream.open (it carries `retry:`); the reset comes next.
      expect(subscriber.events.map((e) => e.type).slice(0, 2)).toEqual([
        'stream.open',
        'stream.reset',
      ]);
      const resets = subscriber.ofType('stream.reset');
      expect(resets).toHaveLength(1);
      expect(JSON.parse(resets[0]?.data ?? '')).toEqual({ channel, reason: 'expired', missed: 3 });
      expect(subscriber.messages()).toEqual([...numbered('m', 6, 10), 'live']);
      expect(subscriber.ofType('stream.open')).toHaveLength(1);
    });

    it('sends one stream.reset (ahead) for a cursor beyond the log, then new events', async () => {
      // Prepare
      const stack = await startStack();
      const channel = newChannel();
      for (const data of numbered('m', 1, 3)) await publish(channel, data);
      const cursor = encodeCursor(new Map([[channel, 100]]));

      // Act
      const subscriber = connect(eventsUrl(stack, `channel=${channel}&lastEventId=${cursor}`));
      await waitFor(() => subscriber.ofType('stream.reset').length === 1, 10_000, 'the reset');
      await publish(channel, 'after');
      await waitFor(() => subscriber.messages().includes('after'), 10_000, 'the new event');

      // Assess
      const resets = subscriber.ofType('stream.reset');
      expect(resets).toHaveLength(1);
      expect(JSON.parse(resets[0]?.data ?? '')).toMatchObject({ channel, reason: 'ahead' });
      expect(subscriber.messages()).toEqual(['after']);
    });

    it('resumes both channels of an envelope=1 stream from one cursor', async () => {
      // Prepare
      const stack = await startStack();
      const a = newChannel('room-a');
      const b = newChannel('room-b');
      const url = eventsUrl(stack, `channel=${a}&channel=${b}&envelope=1`);
      const first = connect(url);
      await waitFor(() => first.ofType('stream.open').length === 1, 10_000, 'stream.open');
      await publish(a, 'a1');
      await publish(b, 'b1');
      await publish(a, 'a2', 'update');
      await publish(b, 'b2');
      await waitFor(() => first.messages().length === 4, 10_000, 'the first four');
      const lastId = first.events.at(-1)?.id ?? '';
      first.source.close();

      // Act
      await publish(a, 'a3');
      await publish(b, 'b3');
      await publish(a, 'a4');
      await publish(b, 'b4');
      await publish(b, 'b5');
      const second = connect(`${url}&lastEventId=${encodeURIComponent(lastId)}`);
      await waitFor(() => second.messages().length === 5, 10_000, 'the missed five');
      await publish(a, 'sentinel');
      await waitFor(() => second.messages().length === 6, 10_000, 'the sentinel');

      // Assess
      const envelopes = (subscriber: Subscriber) =>
        subscriber.ofType('message').map((e) => {
          const envelope: Record<string, unknown> = JSON.parse(e.data);
          expect(Object.keys(envelope).sort()).toEqual(['channel', 'data', 'event', 'id', 'time']);
          expect(envelope.id).toBe(e.id);
          expect(Number.isNaN(Date.parse(String(envelope.time)))).toBe(false);
          return envelope;
        });
      const before = envelopes(first);
      const of = (list: Record<string, unknown>[], channel: string) =>
        list.filter((e) => e.channel === channel).map((e) => [e.event, e.data]);
      expect(before).toHaveLength(4);
      expect(of(before, a)).toEqual([
        ['message', 'a1'],
        ['update', 'a2'],
      ]);
      expect(of(before, b)).toEqual([
        ['message', 'b1'],
        ['message', 'b2'],
      ]);
      const after = envelopes(second);
      expect(after).toHaveLength(6);
      expect(of(after, a).map(([, data]) => data)).toEqual(['a3', 'a4', 'sentinel']);
      expect(of(after, b).map(([, data]) => data)).toEqual(['b3', 'b4', 'b5']);
      expect(second.ofType('stream.reset')).toEqual([]);
      // The resumed stream opens at the cursor it resumed from.
      expect(second.ofType('stream.open').map((e) => e.id)).toEqual([lastId]);
    });

    it('gives a client that dropped before any real event a cursor, so it misses nothing', async () => {
      // Prepare
      const stack = await startStack();
      const channel = newChannel();
      await publish(channel, 'before');
      const url = eventsUrl(stack, `channel=${channel}`);
      const first = connect(url);
      await waitFor(() => first.ofType('stream.open').length === 1, 10_000, 'stream.open');
      const openId = first.events[0]?.id ?? '';
      expect(openId).not.toBe('');
      first.source.close();

      // Act: published while it was away
      await publish(channel, 'away 1');
      await publish(channel, 'away 2');
      const second = connect(`${url}&lastEventId=${encodeURIComponent(openId)}`);
      await waitFor(() => second.messages().length === 2, 10_000, 'the missed events');
      await publish(channel, 'live');
      await waitFor(() => second.messages().length === 3, 10_000, 'the live event');

      // Assess
      expect(first.messages()).toEqual([]);
      expect(second.messages()).toEqual(['away 1', 'away 2', 'live']);
    });

    it('serves 50 subscribers of one channel with log reads that do not grow with them', async () => {
      // Prepare
      const stack = await startStack({ heartbeatMs: 300 });
      const channel = newChannel();
      const subscribers = Array.from({ length: 50 }, () =>
        connect(eventsUrl(stack, `channel=${channel}`)),
      );
      await waitFor(
        () => subscribers.every((s) => s.ofType('stream.open').length === 1),
        20_000,
        'every stream.open',
      );

      // Act 1: a quiet second (heartbeats make every session read again)
      const idleStart = Date.now();
      const idleReads = stack.log.readsOf(channel);
      await pause(1_000);
      const idle = { reads: stack.log.readsOf(channel) - idleReads, ms: Date.now() - idleStart };

      // Act 2: 20 events
      const busyStart = Date.now();
      const busyReads = stack.log.readsOf(channel);
      await publishPaced(channel, numbered('m', 1, 20), 20);
      await publish(channel, 'sentinel');
      await waitFor(
        () => subscribers.every((s) => s.messages().includes('sentinel')),
        20_000,
        'the sentinel everywhere',
      );
      const busy = { reads: stack.log.readsOf(channel) - busyReads, ms: Date.now() - busyStart };

      // Assess: one poller's reads, at most one per minimum interval (plus slack)
      for (const subscriber of subscribers) {
        expect(subscriber.messages()).toEqual([...numbered('m', 1, 20), 'sentinel']);
      }
      expect(idle.reads).toBeLessThanOrEqual(Math.ceil(idle.ms / stack.config.pollMaxMs) + 6);
      expect(idle.reads).toBeLessThan(subscribers.length);
      expect(busy.reads).toBeLessThanOrEqual(Math.ceil(busy.ms / stack.config.pollMinMs) + 2);
      expect(busy.reads).toBeLessThan(subscribers.length * 2);
    }, 60_000);
  });

  describe('Endpoint: GET /poll', () => {
    it('follows a cursor: latest, then exactly the newer events, then nothing', async () => {
      // Prepare
      const stack = await startStack();
      const channel = newChannel();
      await publish(channel, 'old');
      const pollUrl = (query: string) => `${stack.url}/poll?channel=${channel}${query}`;

      // Act
      const start = await getJson(pollUrl(''));
      const startBody = start.body as PollBody;
      for (const data of numbered('m', 1, 3)) await publish(channel, data);
      const next = (await getJson(pollUrl(`&cursor=${startBody.cursor}`))).body as PollBody;
      const after = (await getJson(pollUrl(`&cursor=${next.cursor}`))).body as PollBody;
      const earliest = (await getJson(pollUrl('&cursor=earliest'))).body as PollBody;

      // Assess
      expect(start.status).toBe(200);
      expect(startBody).toMatchObject({ events: [], resets: [] });
      expect(next.events.map((e) => e.data)).toEqual(numbered('m', 1, 3));
      expect(next.events.every((e) => e.channel === channel && e.event === 'message')).toBe(true);
      expect(next.cursor).toBe(next.events.at(-1)?.id);
      expect(after).toEqual({ events: [], cursor: next.cursor, resets: [] });
      expect(earliest.events.map((e) => e.data)).toEqual(['old', ...numbered('m', 1, 3)]);
    });

    it('answers a long poll as soon as an event is appended, not at the end of the wait', async () => {
      // Prepare
      const stack = await startStack();
      const channel = newChannel();
      const { cursor } = (await getJson(`${stack.url}/poll?channel=${channel}`)).body as PollBody;

      // Act
      const started = Date.now();
      const answer = getJson(`${stack.url}/poll?channel=${channel}&cursor=${cursor}&wait=10`);
      await pause(200);
      await publish(channel, 'news');
      const { status, body } = await answer;
      const elapsed = Date.now() - started;

      // Assess
      expect(status).toBe(200);
      expect((body as PollBody).events.map((e) => e.data)).toEqual(['news']);
      expect(elapsed).toBeGreaterThanOrEqual(200);
      expect(elapsed).toBeLessThan(5_000);
    });

    it('pages a backlog with a bounded size and a cursor that continues exactly', async () => {
      // Prepare
      const stack = await startStack({ pollLimit: 5 });
      const channel = newChannel();
      for (const data of numbered('m', 1, 12)) await publish(channel, data);

      // Act
      const pages: string[][] = [];
      let cursor = 'earliest';
      for (let i = 0; i < 4; i += 1) {
        const body = (await getJson(`${stack.url}/poll?channel=${channel}&cursor=${cursor}`))
          .body as PollBody;
        pages.push(body.events.map((e) => e.data));
        cursor = body.cursor;
      }

      // Assess
      expect(pages.map((p) => p.length)).toEqual([5, 5, 2, 0]);
      expect(pages.flat()).toEqual(numbered('m', 1, 12));
    });

    it('refuses wait=21 with a 400 that names wait', async () => {
      const stack = await startStack();
      const { status, body } = await getJson(`${stack.url}/poll?channel=${newChannel()}&wait=21`);
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: { code: 'invalid_parameter' } });
      expect(JSON.stringify(body)).toMatch(/wait/);
    });
  });
  describe('Adapter: node:http', () => {
    /** Wraps the routes so a test sees what each stream session did. */
    const observe =
      (summaries: StreamSummary[], written: { events: number; bytes: number }) =>
      (routes: Router): Router =>
      async (request) => {
        const response = await routes(request);
        if (response.kind !== 'stream') return response;
        return {
          ...response,
          run: async (write, signal) => {
            const summary = await response.run((chunk) => {
              written.bytes += Buffer.byteLength(chunk);
              if (/(^|\n)id:/.test(chunk)) written.events += 1;
              return write(chunk);
            }, signal);
            summaries.push(summary);
            return summary;
          },
        };
      };

    it('stops the stream session as soon as the client disconnects', async () => {
      // Prepare: without the abort, the session would run its 5-minute lifetime
      const summaries: StreamSummary[] = [];
      const stack = await startStack(
        { heartbeatMs: 200 },
        { wrap: observe(summaries, { events: 0, bytes: 0 }) },
      );
      const subscriber = connect(eventsUrl(stack, `channel=${newChannel()}`));
      await waitFor(() => subscriber.ofType('stream.open').length === 1, 10_000, 'stream.open');

      // Act
      subscriber.source.close();
      await waitFor(() => summaries.length === 1, 2_000, 'the session to end');

      // Assess
      expect(summaries[0]?.reason).toBe('aborted');
    });

    it('waits for a slow client instead of buffering (back-pressure), then delivers it all', async () => {
      // Prepare: 200 events of 256 KiB (50 MiB), far beyond socket buffers
      const memory = new MemoryEventLog();
      const channel = newChannel();
      const payload = 'x'.repeat(256 * 1024);
      await memory.append(
        channel,
        Array.from({ length: 200 }, (_, i) => ({
          event: 'message',
          data: payload,
          dedupeKey: `k${i}`,
        })),
      );
      const written = { events: 0, bytes: 0 };
      const stack = await startStack(
        { byteBudget: 1_000_000_000 },
        { log: memory, wrap: observe([], written) },
      );
      const { port } = new URL(stack.url);
      const socket = connectSocket(Number(port), '127.0.0.1');
      sockets.push(socket);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));

      // Act 1: ask for the whole history and read nothing
      socket.write(
        `GET /events?channel=${channel}&lastEventId=earliest HTTP/1.1\r\nHost: test\r\n\r\n`,
      );
      let stalled = -1;
      await waitFor(
        () => {
          // Stalled: no progress over the last 300 ms.
          const now = written.bytes;
          const done = now > 0 && now === stalled;
          stalled = now;
          return done;
        },
        10_000,
        'the session to stall',
      );
      await pause(300);
      const whileStalled = { ...written };

      // Act 2: read everything
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.byteLength;
      });
      // stream.open and 200 events, each with an id
      await waitFor(() => written.events === 201 && received >= written.bytes, 30_000, 'the rest');

      // Assess
      expect(whileStalled.events).toBeLessThan(120);
      expect(whileStalled.bytes).toBeLessThan(30 * 1024 * 1024);
      expect(written.events).toBe(201);
    }, 60_000);

    it('answers a router failure with the contract 500 JSON error', async () => {
      // Prepare
      const failure = new Error('router exploded');
      const stack = await startStack(
        {},
        {
          wrap: (routes) => async (request) => {
            if (request.query.has('explode')) throw failure;
            return routes(request);
          },
        },
      );

      // Act
      const response = await fetch(`${stack.url}/poll?channel=${newChannel()}&explode=1`);

      // Assess
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({
        error: { code: 'internal', message: 'internal error' },
      });
      expect(problems.splice(0)).toEqual([failure]);
    });

    it('breaks the connection when a session fails after its headers, and the client resumes', async () => {
      // Prepare: the first session fails after writing a little
      const failure = new Error('session exploded');
      let sessions = 0;
      const stack = await startStack(
        {},
        {
          wrap: (routes) => async (request) => {
            const response = await routes(request);
            if (response.kind !== 'stream') return response;
            sessions += 1;
            if (sessions > 1) return response;
            return {
              ...response,
              run: async (write) => {
                await write('retry: 50\n\n');
                throw failure;
              },
            };
          },
        },
      );
      const channel = newChannel();

      // Act
      const raw = await fetch(eventsUrl(stack, `channel=${channel}`));
      const body = raw.text().then(
        () => 'ended cleanly',
        () => 'broken',
      );
      const subscriber = connect(eventsUrl(stack, `channel=${channel}`));
      await waitFor(() => subscriber.ofType('stream.open').length === 1, 10_000, 'stream.open');

      // Assess: a broken body, not a clean end; the EventSource simply went on
      expect(raw.status).toBe(200);
      expect(await body).toBe('broken');
      expect(problems.splice(0)).toEqual([failure]);
    });
  });
});
