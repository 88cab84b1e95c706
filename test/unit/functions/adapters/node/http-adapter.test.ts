import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Router,
  type SubscribeServer,
  startSubscribeServer,
} from '../../../../../functions/adapters/node/http-adapter.js';
import { MemoryEventLog } from '../../../../../functions/core/memory-event-log.js';
import { PollingFeed } from '../../../../../functions/core/polling-feed.js';
import type { StreamSummary } from '../../../../../functions/core/stream-session.js';
import type { Authorizer } from '../../../../../functions/http/access.js';
import { createRouter } from '../../../../../functions/http/router.js';
import {
  DEFAULT_SUBSCRIBE_CONFIG,
  type SubscribeConfig,
} from '../../../../../functions/http/subscribe-config.js';

/** Waits until `condition` holds, checking every 10 ms; fails after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Splits a raw HTTP/1.1 answer into status, lower-cased headers and body. */
function parseAnswer(raw: string): RawAnswer {
  const split = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]),
    headers,
    body: raw.slice(split + 4),
  };
}

describe('Function: startSubscribeServer', () => {
  const servers: SubscribeServer[] = [];
  const sockets: Socket[] = [];
  const problems: unknown[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const server of servers.splice(0)) await server.close();
    expect(problems.splice(0)).toEqual([]);
  });

  async function start(
    options: {
      config?: Partial<SubscribeConfig>;
      log?: MemoryEventLog;
      authorize?: Authorizer;
      lines?: { message: string; fields: Record<string, unknown> }[];
    } = {},
  ): Promise<{ server: SubscribeServer; summaries: StreamSummary[] }> {
    const config: SubscribeConfig = { ...DEFAULT_SUBSCRIBE_CONFIG, ...options.config };
    const log = options.log ?? new MemoryEventLog();
    const routes = createRouter({
      config,
      feed: () => new PollingFeed(log, { minMs: 25, maxMs: 100 }),
      clock: Date.now,
      random: () => 0,
      authorize: options.authorize,
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
    const lines = options.lines;
    const server = await startSubscribeServer({
      router,
      onError: (e) => problems.push(e),
      ...(lines !== undefined && {
        log: {
          info: (message, fields) => lines.push({ message, fields }),
          error: (message, fields) => lines.push({ message, fields }),
        },
      }),
    });
    servers.push(server);
    return { server, summaries };
  }

  function open(server: SubscribeServer): Promise<Socket> {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
  }

  /** Sends raw bytes and reads everything until the server closes the connection. */
  async function exchange(server: SubscribeServer, text: string): Promise<RawAnswer> {
    const socket = await open(server);
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(text, 'latin1');
    await closed;
    return parseAnswer(received);
  }

  /** A backlog far larger than what the socket buffers of both ends can hold. */
  async function bigBacklog(channel: string): Promise<MemoryEventLog> {
    const log = new MemoryEventLog();
    const payload = 'x'.repeat(256 * 1024);
    await log.append(
      channel,
      Array.from({ length: 80 }, (_, i) => ({
        event: 'message',
        data: payload,
        dedupeKey: `${i}`,
      })),
    );
    return log;
  }

  /**
   * Asks for the whole backlog and reads nothing until the session has ended; then reads
   * what the server sent, to the close. Resolves with the body's tail.
   */
  async function subscribeWithoutReading(
    server: SubscribeServer,
    channel: string,
    summaries: StreamSummary[],
  ): Promise<{ tail: string; closed: boolean }> {
    const socket = await open(server);
    socket.pause();
    socket.write(
      `GET /events?channel=${channel}&lastEventId=earliest HTTP/1.1\r\nHost: test\r\n\r\n`,
    );
    await waitFor(() => summaries.length === 1, 20_000, 'the session to end');
    let tail = '';
    socket.on('error', () => undefined);
    const closed = new Promise<boolean>((resolve) => socket.once('close', () => resolve(true)));
    socket.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('latin1')).slice(-64);
    });
    socket.resume();
    const wasClosed = await closed;
    return { tail, closed: wasClosed };
  }

  it('logs a line when a stream starts and ends, with a request id, its figures, and never the query', async () => {
    // Prepare: a stream that ends itself after a second, resumed from earliest
    const log = new MemoryEventLog();
    await log.append('news', [{ event: 'message', data: 'one', dedupeKey: 'a' }]);
    const lines: { message: string; fields: Record<string, unknown> }[] = [];
    const { server, summaries } = await start({
      log,
      lines,
      config: { lifetimeMs: 1_000, lifetimeJitter: 0 },
    });

    // Act
    const answer = await exchange(
      server,
      'GET /events?channel=news&lastEventId=earliest&token=s3cr3t HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n',
    );

    // Assess
    expect(answer.status).toBe(200);
    const started = lines.find((l) => l.message === 'stream started');
    const ended = lines.find((l) => l.message === 'stream ended');
    expect(started?.fields).toMatchObject({ path: '/events', channels: ['news'], channelCount: 1 });
    expect(started?.fields.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ended?.fields).toMatchObject({
      requestId: started?.fields.requestId,
      channelCount: 1,
      reason: 'lifetime',
      events: 1,
      startLag: 1,
      bytes: summaries[0]?.bytes,
    });
    expect(typeof ended?.fields.durationMs).toBe('number');
    expect(JSON.stringify(lines)).not.toMatch(/s3cr3t|lastEventId|token=/);
  });

  it('destroys the connection of a client that stopped reading at the stream stop time', async () => {
    // Prepare: a one-second lifetime and a backlog the client never reads
    const channel = 'slow';
    const { server, summaries } = await start({
      config: { lifetimeMs: 1_000, lifetimeJitter: 0, byteBudget: 1_000_000_000 },
      log: await bigBacklog(channel),
    });

    // Act
    const { tail, closed } = await subscribeWithoutReading(server, channel, summaries);

    // Assess: cut by the server inside the body, without the chunked terminator
    expect(summaries[0]?.reason).toBe('stalled');
    expect(summaries[0]?.events).toBeLessThan(80);
    expect(closed).toBe(true);
    expect(tail.endsWith('\r\n0\r\n\r\n')).toBe(false);
  }, 30_000);

  it('ends a stalled stream at its token expiry, before its lifetime', async () => {
    // Prepare: a five-minute lifetime, a token valid for one more second
    const channel = 'slow';
    const { server, summaries } = await start({
      config: { byteBudget: 1_000_000_000 },
      log: await bigBacklog(channel),
      authorize: async () => ({ notAfter: Date.now() + 1_000 }),
    });

    // Act
    await subscribeWithoutReading(server, channel, summaries);

    // Assess
    expect(summaries[0]?.reason).toBe('stalled');
    expect(summaries[0]?.events).toBeLessThan(80);
  }, 30_000);

  it("answers a request line Node's parser refuses with the contract's JSON 400", async () => {
    // Prepare
    const { server } = await start();

    // Act
    const answer = await exchange(server, 'NOT A REQUEST\r\n\r\n');

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers.connection).toBe('close');
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'invalid_request', message: 'malformed HTTP request' },
    });
  });

  it("answers a header Node's parser refuses as invalid with the contract's JSON 400", async () => {
    const { server } = await start();
    const answer = await exchange(
      server,
      'GET /events?channel=a HTTP/1.1\r\nHost: test\r\nBad Header: x\r\n\r\n',
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'invalid_request' } });
  });

  it("answers oversized headers with the contract's JSON 431", async () => {
    // Prepare: beyond Node's default 16 KiB of headers
    const { server } = await start();

    // Act
    const answer = await exchange(
      server,
      `GET /events?channel=a HTTP/1.1\r\nHost: test\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`,
    );

    // Assess
    expect(answer.status).toBe(431);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'headers_too_large', message: 'request headers are too large' },
    });
  });
});
