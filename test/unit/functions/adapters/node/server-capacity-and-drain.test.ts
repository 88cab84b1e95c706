import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  OVER_CAPACITY_RETRY_AFTER_SECONDS,
  type Router,
  type SubscribeServer,
  type SubscribeServerOptions,
  startSubscribeServer,
} from '../../../../../functions/adapters/node/http-adapter.js';
import { MemoryEventLog } from '../../../../../functions/core/memory-event-log.js';
import { SharedFeed } from '../../../../../functions/core/shared-feed.js';
import type { StreamSummary } from '../../../../../functions/core/stream-session.js';
import { createRouter } from '../../../../../functions/http/router.js';
import {
  DEFAULT_SUBSCRIBE_CONFIG,
  type SubscribeConfig,
} from '../../../../../functions/http/subscribe-config.js';

// What the Web Function host adds to the Node adapter: a connection limit answered with
// 503, a per-request deadline, SIGTERM's drain, and surviving a failed accept.

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A raw connection that records everything the server sends and when it closes. */
interface Raw {
  readonly socket: Socket;
  received(): string;
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

describe('Function: startSubscribeServer as a Web Function host', () => {
  const servers: SubscribeServer[] = [];
  const sockets: Socket[] = [];
  const feeds: SharedFeed[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const server of servers.splice(0)) await server.close();
    for (const feed of feeds.splice(0)) feed.close();
  });

  async function start(
    options: {
      config?: Partial<SubscribeConfig>;
      server?: Partial<SubscribeServerOptions>;
      log?: MemoryEventLog;
    } = {},
  ) {
    const config: SubscribeConfig = { ...DEFAULT_SUBSCRIBE_CONFIG, ...options.config };
    const log = options.log ?? new MemoryEventLog();
    const feed = new SharedFeed(log, { interval: { minMs: 20, maxMs: 50 } });
    feeds.push(feed);
    const shutdown = new AbortController();
    const problems: unknown[] = [];
    const routes = createRouter({
      config,
      feed: () => feed,
      clock: Date.now,
      random: () => 0,
      shutdown: shutdown.signal,
      onError: (error) => problems.push(error),
    });
    const summaries: StreamSummary[] = [];
    const router: Router = async (request) => {
      const response = await routes(request);
      if (response.kind !== 'stream') return response;
      return {
        ...response,
        run: async (write, signal) => {
          const summary = await response.run(write, signal);
          summaries.push(summary);
          return summary;
        },
      };
    };
    const server = await startSubscribeServer({
      router,
      onError: (e) => problems.push(e),
      ...options.server,
    });
    servers.push(server);
    return { server, summaries, shutdown, log, problems };
  }

  async function open(server: SubscribeServer, text?: string): Promise<Raw> {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    sockets.push(socket);
    let received = '';
    let closed = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    socket.on('error', () => undefined);
    const closing = new Promise<void>((resolve) =>
      socket.once('close', () => {
        closed = true;
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    if (text !== undefined) socket.write(text);
    return { socket, received: () => received, closed: closing, isClosed: () => closed };
  }

  const streamRequest = (channel: string) =>
    `GET /events?channel=${channel} HTTP/1.1\r\nHost: test\r\n\r\n`;

  it('answers 503 with Retry-After beyond the connections it serves, and serves again once one closes', async () => {
    // Prepare: room for two connections
    const refusals: string[] = [];
    const { server } = await start({
      server: {
        connectionLimits: { serve: 2, refuse: 8 },
        onRefused: (status, code) => refusals.push(`${status} ${code}`),
      },
    });
    const first = await open(server, streamRequest('a'));
    const second = await open(server, streamRequest('b'));
    await waitFor(
      () => first.received().includes('stream.open') && second.received().includes('stream.open'),
      5_000,
      'two streams to open',
    );

    // Act
    const third = await open(server, streamRequest('c'));
    await third.closed;

    // Assess: a clear refusal, in the contract's JSON error shape
    const answer = third.received();
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer.toLowerCase()).toContain(`retry-after: ${OVER_CAPACITY_RETRY_AFTER_SECONDS}\r\n`);
    expect(answer.toLowerCase()).toContain('connection: close\r\n');
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
      error: { code: string; message: string };
    };
    expect(body.error.code).toBe('over_capacity');
    // Told to the metrics, which the routes never see.
    expect(refusals).toEqual(['503 over_capacity']);
    expect(body.error.message).toContain('(2)');

    first.socket.destroy();
    await waitFor(() => server.connections() === 1, 5_000, 'the closed connection to count out');
    const fourth = await open(server, streamRequest('d'));
    await waitFor(() => fourth.received().includes('stream.open'), 5_000, 'a stream to open again');
  });

  it('drops connections beyond the most it holds at once, without answering', async () => {
    const { server } = await start({ server: { connectionLimits: { serve: 1, refuse: 2 } } });
    const stream = await open(server, streamRequest('a'));
    await waitFor(() => stream.received().includes('stream.open'), 5_000, 'the stream to open');
    const idle = await open(server);
    await waitFor(() => server.connections() === 2, 5_000, 'two connections');

    const dropped = await open(server, streamRequest('b'));
    await dropped.closed;

    expect(dropped.received()).toBe('');
    expect(stream.isClosed()).toBe(false);
    expect(idle.isClosed()).toBe(false);
  });

  it('on drain ends every stream after a complete event, refuses what comes after, and stops listening', async () => {
    // Prepare: two streams that have each received an event, and a request whose
    // headers have begun but not ended
    const { server, summaries, shutdown, log } = await start();
    const one = await open(server, streamRequest('a'));
    const two = await open(server, streamRequest('b'));
    const late = await open(server, 'GET /poll?channel=a HTTP/1.1\r\nHost: test\r\n');
    await waitFor(
      () => one.received().includes('stream.open') && two.received().includes('stream.open'),
      5_000,
      'the streams to open',
    );
    await log.append('a', [{ event: 'message', data: 'to a', dedupeKey: '1' }]);
    await log.append('b', [{ event: 'message', data: 'to b', dedupeKey: '2' }]);
    await waitFor(
      () => one.received().includes('data: to a') && two.received().includes('data: to b'),
      5_000,
      'the events',
    );

    // Act: what the entry does on SIGTERM; the late request completes meanwhile
    shutdown.abort();
    const drained = server.drain(2_000);
    late.socket.write('\r\n');
    await drained;

    // Assess: clean ends (the chunked terminator right after a complete event), reason
    // shutdown; the late request is refused; nobody can connect any more
    await Promise.all([one.closed, two.closed, late.closed]);
    expect(summaries.map((s) => s.reason)).toEqual(['shutdown', 'shutdown']);
    expect(one.received()).toMatch(/data: to a\nid: [^\n]+\n\n\r\n0\r\n\r\n$/);
    expect(two.received()).toMatch(/data: to b\nid: [^\n]+\n\n\r\n0\r\n\r\n$/);
    expect(late.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(late.received().toLowerCase()).toContain('retry-after: 1\r\n');
    expect(late.received()).toContain('"code":"shutting_down"');
    await expect(open(server)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('answers a long poll at once, with its cursor, when the server shuts down', async () => {
    const { server, shutdown } = await start();
    const poll = await open(
      server,
      'GET /poll?channel=a&wait=20 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(poll.received()).toBe('');

    shutdown.abort();
    await poll.closed;

    expect(poll.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(poll.received()).toContain('"cursor":');
  });

  it("ends a stream before the request's timeout, less the deadline margin", async () => {
    // Prepare: a revision timeout of 1.5 s and a margin of 1 s leave the stream 0.5 s
    const { server, summaries } = await start({
      config: { deadlineMarginMs: 1_000 },
      server: { requestTimeoutMs: 1_500 },
    });

    // Act
    const stream = await open(server, streamRequest('a'));
    await waitFor(() => summaries.length === 1, 5_000, 'the stream to end');

    // Assess: it ended itself (not the 5-minute lifetime), cleanly
    expect(summaries[0]?.reason).toBe('deadline');
    await waitFor(() => stream.received().endsWith('\r\n0\r\n\r\n'), 5_000, 'the clean end');
  });

  it('survives a failed accept (EMFILE) and goes on serving', async () => {
    const errors: Error[] = [];
    const { server } = await start({ server: { onServerError: (e) => errors.push(e) } });

    server.server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }));
    const poll = await open(
      server,
      'GET /poll?channel=a HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n',
    );
    await poll.closed;

    expect(errors.map((e) => e.message)).toEqual(['accept EMFILE']);
    expect(poll.received()).toMatch(/^HTTP\/1\.1 200 /);
  });
});
