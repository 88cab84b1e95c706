import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoDBEventLog } from '../../../../../functions/adapters/dynamodb/event-log.js';
import {
  createStreamingHandler,
  type InvocationContext,
  lambdaRuntime,
  type StreamingHandler,
  streamify,
  toHttpRequest,
} from '../../../../../functions/adapters/lambda/http-adapter.js';
import type { EventFeed } from '../../../../../functions/core/event-feed.js';
import type { EventLog } from '../../../../../functions/core/event-log.js';
import type { Log } from '../../../../../functions/core/log.js';
import { MemoryEventLog } from '../../../../../functions/core/memory-event-log.js';
import { PollingFeed } from '../../../../../functions/core/polling-feed.js';
import type { Authorizer } from '../../../../../functions/http/access.js';
import {
  errorBody,
  HttpError,
  type HttpRequest,
  type HttpResponse,
} from '../../../../../functions/http/http-types.js';
import { createRouter } from '../../../../../functions/http/router.js';
import {
  DEFAULT_SUBSCRIBE_CONFIG,
  type SubscribeConfig,
} from '../../../../../functions/http/subscribe-config.js';
import {
  installAwsLambdaShim,
  isStreamified,
  PRELUDE_CONTENT_TYPE,
  PRELUDE_DELIMITER,
  RecordingResponseStream,
  TRAILER_ERROR_TYPE,
} from '../../../../support/awslambda-shim.js';
import { createEventLogTable, localDynamoClient } from '../../../../support/dynamodb.js';

const START = Date.parse('2026-11-02T10:00:00.000Z');

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-store, no-transform',
  'x-accel-buffering': 'no',
};

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade'];

interface LogLine {
  level: 'info' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

class RecordingLog implements Log {
  readonly lines: LogLine[] = [];
  info(message: string, fields: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, fields });
  }
  error(message: string, fields: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, fields });
  }
}

interface UrlRequest {
  readonly method?: string;
  readonly path?: string;
  readonly query?: string;
  readonly headers?: Record<string, string>;
  readonly cookies?: string[];
}

/** A function URL event (payload format 2.0) as Lambda delivers it; fresh per call. */
function functionUrlEvent(request: UrlRequest = {}): LambdaFunctionURLEvent {
  const path = request.path ?? '/events';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: request.query ?? '',
    headers: {
      host: 'abcdefghij.lambda-url.us-east-1.on.aws',
      'user-agent': 'vitest',
      accept: 'text/event-stream',
      ...request.headers,
    },
    ...(request.cookies === undefined ? {} : { cookies: [...request.cookies] }),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghij',
      domainName: 'abcdefghij.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefghij',
      http: {
        method: request.method ?? 'GET',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'vitest',
      },
      requestId: 'c1f6a5e2-0000-4000-8000-000000000001',
      routeKey: '$default',
      stage: '$default',
      time: '02/Nov/2026:10:00:00 +0000',
      timeEpoch: START,
    },
    isBase64Encoded: false,
  };
}

/** Lambda's context for an invocation that has `remainingMs` left now. */
function invocationContext(remainingMs: number): InvocationContext {
  const deadline = Date.now() + remainingMs;
  return {
    awsRequestId: 'req-1',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

interface ParsedStream {
  readonly events: EventSourceMessage[];
  readonly comments: string[];
  readonly retry: number | undefined;
  /** Ends on a line break with no event left half-written. */
  readonly complete: boolean;
}

function parseSse(body: string): ParsedStream {
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  let retry: number | undefined;
  const parser = createParser({
    onEvent: (event) => events.push(event),
    onComment: (comment) => comments.push(comment),
    onRetry: (ms) => {
      retry = ms;
    },
  });
  parser.feed(body);
  const whole = events.length;
  // A blank line would dispatch an event that was still missing its end.
  parser.feed('\n\n');
  return {
    events: events.slice(0, whole),
    comments,
    retry,
    complete: body.endsWith('\n') && events.length === whole,
  };
}

/** The published events of a stream, without the `stream.*` notices. */
function published(parsed: ParsedStream): string[] {
  return parsed.events.filter((e) => !e.event?.startsWith('stream.')).map((e) => e.data);
}

interface Setup {
  readonly eventLog?: EventLog;
  readonly config?: Partial<SubscribeConfig>;
  readonly feed?: (eventLog: EventLog) => EventFeed;
  readonly authorize?: Authorizer;
}

function setup(options: Setup = {}) {
  const eventLog = options.eventLog ?? new MemoryEventLog({ clock: () => Date.now() });
  const config: SubscribeConfig = { ...DEFAULT_SUBSCRIBE_CONFIG, ...options.config };
  const log = new RecordingLog();
  const router = createRouter({
    config,
    feed: () =>
      options.feed?.(eventLog) ??
      new PollingFeed(eventLog, { minMs: config.pollMinMs, maxMs: config.pollMaxMs }),
    clock: () => Date.now(),
    random: () => 0,
    authorize: options.authorize,
    onError: (error) => log.error('request failed', { error }),
  });
  const handler = createStreamingHandler(router, { log, clock: () => Date.now() });
  return { eventLog, log, router, handler };
}

async function append(eventLog: EventLog, channel: string, data: string): Promise<void> {
  await eventLog.append(channel, [{ event: 'message', data, dedupeKey: `${channel}:${data}` }]);
}

/** Runs a request to completion (for answers that do not wait on time). */
async function serve(
  handler: StreamingHandler,
  request: UrlRequest,
  remainingMs = 30_000,
): Promise<RecordingResponseStream> {
  const stream = new RecordingResponseStream();
  await handler(functionUrlEvent(request), stream, invocationContext(remainingMs));
  return stream;
}

describe('Function: createStreamingHandler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: START });
  });

  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it('sends the SSE prelude first: JSON status and headers, then 8 NUL bytes, then the body', async () => {
    // Prepare
    const { handler } = setup({ config: { corsOrigins: ['https://app.example'] } });
    const stream = new RecordingResponseStream();

    // Act
    const done = handler(
      functionUrlEvent({
        query: 'channel=news',
        headers: { Origin: 'https://app.example' },
      }),
      stream,
      invocationContext(30_000),
    );
    await vi.advanceTimersByTimeAsync(100);

    // Assess
    const prelude = {
      statusCode: 200,
      headers: {
        ...SSE_HEADERS,
        'access-control-allow-origin': 'https://app.example',
        'access-control-allow-credentials': 'true',
        vary: 'Origin',
      },
    };
    expect(stream.prelude).toEqual(prelude);
    expect(stream.contentType).toBe(PRELUDE_CONTENT_TYPE);
    const [first, second, third] = stream.chunks;
    expect(first?.bytes.toString('utf8')).toBe(JSON.stringify(prelude));
    expect(second?.bytes).toEqual(PRELUDE_DELIMITER);
    expect(third?.bytes.toString('utf8')).toMatch(/^event: stream\.open\nretry: 1000\n/);
    expect(stream.wirePrelude()).toEqual(prelude);
    for (const name of HOP_BY_HOP) expect(Object.keys(prelude.headers)).not.toContain(name);
    expect(stream.writableEnded).toBe(false);

    await vi.advanceTimersByTimeAsync(30_000);
    await done;
  });

  it('writes an event appended while the stream runs before the stream ends', async () => {
    // Prepare
    const { handler, eventLog } = setup({ config: { pollMinMs: 200, pollMaxMs: 1_000 } });
    const stream = new RecordingResponseStream();
    const done = handler(
      functionUrlEvent({ query: 'channel=news' }),
      stream,
      invocationContext(60_000),
    );
    await vi.advanceTimersByTimeAsync(3_000);
    expect(published(parseSse(stream.body()))).toEqual([]);

    // Act
    await append(eventLog, 'news', 'hello');
    const appendedAt = Date.now();
    await vi.advanceTimersByTimeAsync(1_000);

    // Assess
    const chunk = stream.bodyChunks().find((c) => c.text.includes('data: hello\n'));
    expect(chunk).toBeDefined();
    expect(chunk?.at).toBeGreaterThanOrEqual(appendedAt);
    expect(chunk?.at).toBeLessThanOrEqual(appendedAt + 1_000);
    expect(stream.writableEnded).toBe(false);
    expect(stream.endedAt).toBeUndefined();

    await vi.advanceTimersByTimeAsync(60_000);
    await done;
    expect(published(parseSse(stream.body()))).toEqual(['hello']);
  });

  it('ends the stream before the deadline margin, after a complete event', async () => {
    // Prepare
    const { handler, eventLog } = setup({ config: { deadlineMarginMs: 10_000 } });
    const stream = new RecordingResponseStream();
    const done = handler(
      functionUrlEvent({ query: 'channel=news' }),
      stream,
      invocationContext(30_000),
    );

    // Act
    await vi.advanceTimersByTimeAsync(5_000);
    await append(eventLog, 'news', 'one');
    await vi.advanceTimersByTimeAsync(14_000);
    await append(eventLog, 'news', 'two\nlines');
    await vi.advanceTimersByTimeAsync(800);
    const endedBy19800 = stream.writableEnded;
    await vi.advanceTimersByTimeAsync(1_000);
    await done;

    // Assess
    expect(endedBy19800).toBe(false);
    expect(stream.writableEnded).toBe(true);
    expect(stream.endedAt).toBeDefined();
    const endedAfter = (stream.endedAt ?? 0) - START;
    expect(endedAfter).toBeGreaterThanOrEqual(19_000);
    expect(endedAfter).toBeLessThanOrEqual(20_000);
    const parsed = parseSse(stream.body());
    expect(parsed.complete).toBe(true);
    expect(parsed.retry).toBe(1_000);
    expect(published(parsed)).toEqual(['one', 'two\nlines']);
    for (const event of parsed.events) expect(event.id).toMatch(/^1\./);
  });

  it('logs a line when a stream starts and when it ends, with its figures and never the query', async () => {
    // Prepare: two stored events, a client resuming from earliest, a token in the query
    const { handler, eventLog, log } = setup({ config: { deadlineMarginMs: 10_000 } });
    await append(eventLog, 'news', 'one');
    await append(eventLog, 'news', 'two');
    const stream = new RecordingResponseStream();

    // Act
    const done = handler(
      functionUrlEvent({ query: 'channel=news&channel=sport&lastEventId=earliest&token=s3cr3t' }),
      stream,
      invocationContext(20_000),
    );
    await vi.advanceTimersByTimeAsync(11_000);
    await done;

    // Assess
    const started = log.lines.find((l) => l.message === 'stream started');
    const ended = log.lines.find((l) => l.message === 'stream ended');
    expect(started?.fields).toMatchObject({
      requestId: 'req-1',
      path: '/events',
      channels: ['news', 'sport'],
      channelCount: 2,
    });
    expect(ended?.fields).toMatchObject({
      requestId: 'req-1',
      channelCount: 2,
      reason: 'deadline',
      events: 2,
      startLag: 2,
      bytes: Buffer.byteLength(stream.body()),
    });
    expect(JSON.stringify(log.lines)).not.toMatch(/s3cr3t|lastEventId|token=/);
  });

  it('leaves no timer behind once the handler resolved', async () => {
    // Prepare
    const { handler } = setup({ config: { heartbeatMs: 5_000, deadlineMarginMs: 1_000 } });
    const stream = new RecordingResponseStream();
    const done = handler(
      functionUrlEvent({ query: 'channel=news' }),
      stream,
      invocationContext(12_000),
    );

    // Act
    await vi.advanceTimersByTimeAsync(12_000);
    await done;

    // Assess
    expect(stream.writableEnded).toBe(true);
    expect(parseSse(stream.body()).comments.length).toBeGreaterThan(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers a poll as JSON and ends the response', async () => {
    // Prepare
    const { handler, eventLog } = setup();
    await append(eventLog, 'news', 'first');

    // Act
    const stream = await serve(handler, { path: '/poll', query: 'channel=news&cursor=earliest' });

    // Assess
    expect(stream.prelude?.statusCode).toBe(200);
    expect(stream.prelude?.headers['content-type']).toBe('application/json; charset=utf-8');
    const body: unknown = JSON.parse(stream.body());
    expect(body).toMatchObject({ events: [{ channel: 'news', data: 'first' }], resets: [] });
    expect(stream.writableEnded).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cuts a long poll short at the deadline margin and leaves no timer', async () => {
    // Prepare
    const { handler } = setup({ config: { deadlineMarginMs: 10_000 } });
    const stream = new RecordingResponseStream();
    const done = handler(
      functionUrlEvent({ path: '/poll', query: 'channel=news&wait=20' }),
      stream,
      invocationContext(15_000),
    );

    // Act
    await vi.advanceTimersByTimeAsync(4_900);
    const endedEarly = stream.writableEnded;
    await vi.advanceTimersByTimeAsync(200);
    await done;

    // Assess
    expect(endedEarly).toBe(false);
    expect(stream.writableEnded).toBe(true);
    expect(JSON.parse(stream.body())).toMatchObject({ events: [], resets: [] });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends the prelude of a response without a body (CORS preflight 204)', async () => {
    // Prepare
    const { handler } = setup({ config: { corsOrigins: ['https://app.example'] } });

    // Act
    const stream = await serve(handler, {
      method: 'OPTIONS',
      query: 'channel=news',
      headers: { origin: 'https://app.example' },
    });

    // Assess: the runtime only sends a prelude on a write, so the handler must write.
    expect(stream.wirePrelude()).toMatchObject({
      statusCode: 204,
      headers: { 'access-control-allow-origin': 'https://app.example' },
    });
    expect(stream.body()).toBe('');
    expect(stream.writableEnded).toBe(true);
  });

  it.each([
    {
      name: 'a bad channel',
      request: { query: 'channel=bad%20channel' },
      status: 400,
      code: 'invalid_parameter',
    },
    {
      name: 'a malformed cursor',
      request: { query: 'channel=news', headers: { 'Last-Event-ID': 'not-a-cursor' } },
      status: 400,
      code: 'malformed_cursor',
    },
    { name: 'an unknown path', request: { path: '/nope' }, status: 404, code: 'not_found' },
    {
      name: 'a POST',
      request: { method: 'POST', query: 'channel=news' },
      status: 405,
      code: 'method_not_allowed',
    },
  ])(
    'answers $name with a JSON $status before any stream byte',
    async ({ request, status, code }) => {
      // Prepare
      const { handler } = setup();

      // Act
      const stream = await serve(handler, request);

      // Assess
      expect(stream.prelude?.statusCode).toBe(status);
      expect(stream.prelude?.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(stream.wirePrelude()).toEqual(stream.prelude);
      const body = JSON.parse(stream.body());
      expect(body).toEqual({ error: { code, message: expect.any(String) } });
      expect(stream.body()).not.toContain('retry:');
      expect(stream.writableEnded).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    },
  );

  it.each([
    { status: 401 as const, code: 'unauthorized' },
    { status: 403 as const, code: 'forbidden' },
  ])(
    'answers a refused token with a JSON $status and never logs the token',
    async ({ status, code }) => {
      // Prepare
      const { handler, log } = setup({
        authorize: async () => {
          throw new HttpError(status, code, `token refused for ${status}`);
        },
      });

      // Act
      const stream = await serve(handler, { query: 'channel=private&token=s3cr3t-t0ken' });

      // Assess
      expect(stream.prelude?.statusCode).toBe(status);
      expect(JSON.parse(stream.body())).toEqual(errorBody(code, `token refused for ${status}`));
      expect(stream.writableEnded).toBe(true);
      expect(log.lines).toContainEqual(
        expect.objectContaining({ fields: expect.objectContaining({ channels: ['private'] }) }),
      );
      expect(JSON.stringify(log.lines)).not.toContain('s3cr3t');
    },
  );

  it('answers a failure inside the routes with a 500 JSON and logs the real error', async () => {
    // Prepare
    const { handler, log } = setup({
      authorize: async () => {
        throw new Error('key store unreachable');
      },
    });

    // Act
    const stream = await serve(handler, { query: 'channel=news' });

    // Assess
    expect(stream.prelude?.statusCode).toBe(500);
    expect(JSON.parse(stream.body())).toEqual({
      error: { code: 'internal', message: 'internal error' },
    });
    expect(stream.body()).not.toContain('key store');
    expect(stream.writableEnded).toBe(true);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({
          error: expect.objectContaining({ message: 'key store unreachable' }),
        }),
      }),
    );
  });

  it('answers a stream that fails before its first byte with a 500 JSON', async () => {
    // Prepare
    const log = new RecordingLog();
    const handler = createStreamingHandler(
      async (): Promise<HttpResponse> => ({
        kind: 'stream',
        status: 200,
        headers: SSE_HEADERS,
        run: async () => {
          throw new Error('table not found');
        },
      }),
      { log },
    );

    // Act
    const stream = await serve(handler, { query: 'channel=news' });

    // Assess
    expect(stream.wirePrelude()).toMatchObject({ statusCode: 500 });
    expect(JSON.parse(stream.body())).toEqual(errorBody('internal', 'internal error'));
    expect(stream.writableEnded).toBe(true);
    expect(log.lines.map((l) => [l.level, l.message])).toEqual([
      ['info', 'stream started'],
      ['error', 'stream failed before its first byte'],
    ]);
  });

  it('rejects when the feed fails mid-stream, leaving the end to the runtime and its error trailers', async () => {
    // Prepare: the feed serves the start of the stream, then its reads fail.
    let reads = 0;
    const feed = (eventLog: EventLog): EventFeed => {
      const inner = new PollingFeed(eventLog, { minMs: 100, maxMs: 100 });
      return {
        retained: (channel) => inner.retained(channel),
        waitForNews: (positions, timeoutMs, signal) =>
          inner.waitForNews(positions, timeoutMs, signal),
        read: async (channel, after, options) => {
          reads += 1;
          if (reads > 2) throw new Error('ProvisionedThroughputExceededException');
          return inner.read(channel, after, options);
        },
      };
    };
    const { handler, log } = setup({ feed });
    const direct = new RecordingResponseStream();
    const viaRuntime = new RecordingResponseStream();
    const runtime = lambdaRuntime();

    // Act
    const directDone = handler(
      functionUrlEvent({ query: 'channel=news' }),
      direct,
      invocationContext(30_000),
    );
    const directResult = expect(directDone).rejects.toThrow('ProvisionedThroughput');
    const wrapped = runtime?.streamifyResponse(handler);
    const viaRuntimeDone = wrapped?.(
      functionUrlEvent({ query: 'channel=news' }),
      viaRuntime,
      invocationContext(30_000),
    );
    const viaRuntimeResult = expect(viaRuntimeDone).rejects.toThrow('ProvisionedThroughput');
    await vi.advanceTimersByTimeAsync(1_000);
    await directResult;
    await viaRuntimeResult;

    // Assess: the handler did not end the stream itself, so the runtime's trailers made it.
    expect(direct.prelude?.statusCode).toBe(200);
    expect(direct.body()).toContain('event: stream.open');
    expect(direct.writableEnded).toBe(false);
    expect(viaRuntime.writableEnded).toBe(true);
    expect(viaRuntime.trailers?.[TRAILER_ERROR_TYPE]).toBe('Error');
    expect(viaRuntime.droppedTrailers).toBeUndefined();
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'stream failed' }),
    );
    expect(vi.getTimerCount()).toBe(0);
    direct.destroy();
  });

  it('waits for drain when the response stream is full', async () => {
    // Prepare
    const progress: string[] = [];
    const handler = createStreamingHandler(
      async (): Promise<HttpResponse> => ({
        kind: 'stream',
        status: 200,
        headers: SSE_HEADERS,
        run: async (write) => {
          await write(': one\n');
          progress.push('one written');
          await write(': two\n');
          progress.push('two written');
          return { events: 0, bytes: 14, resets: 0, startLag: 0, reason: 'lifetime' };
        },
      }),
      { log: new RecordingLog() },
    );
    const stream = new RecordingResponseStream({ highWaterMark: 4 });
    stream.hold();

    // Act
    const done = handler(
      functionUrlEvent({ query: 'channel=news' }),
      stream,
      invocationContext(30_000),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    const whileHeld = [...progress];
    stream.release();
    await done;

    // Assess
    expect(stream.fullWrites).toBeGreaterThan(0);
    expect(whileHeld).toEqual([]);
    expect(progress).toEqual(['one written', 'two written']);
    expect(stream.body()).toBe(': one\n: two\n');
    expect(stream.writableEnded).toBe(true);
  });

  it('ends and destroys a stream whose client stopped reading when its token expires, leaving no timer', async () => {
    // Prepare: the token expires 20 s in, long before the lifetime and the deadline
    const { handler, eventLog, log } = setup({
      config: { pollMinMs: 200, pollMaxMs: 1_000 },
      authorize: async () => ({ notAfter: START + 20_000 }),
    });
    const stream = new RecordingResponseStream({ highWaterMark: 64 });
    let settled = false;
    const done = handler(
      functionUrlEvent({ query: 'channel=news' }),
      stream,
      invocationContext(900_000),
    ).then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(1_000);

    // Act: the client stops reading; an event fills the buffer and waits for drain
    stream.hold();
    await append(eventLog, 'news', 'x'.repeat(1_000));
    await vi.advanceTimersByTimeAsync(18_000);
    const settledBeforeExpiry = settled;
    await vi.advanceTimersByTimeAsync(1_500);
    await done;

    // Assess
    expect(settledBeforeExpiry).toBe(false);
    expect(stream.fullWrites).toBeGreaterThan(0);
    expect(stream.writableEnded).toBe(true);
    expect(stream.destroyed).toBe(true);
    const ended = log.lines.find((l) => l.message === 'stream ended');
    expect(ended?.fields).toMatchObject({ reason: 'stalled', events: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('streams from the DynamoDB event log (DynamoDB Local, real time)', async () => {
    // Prepare
    vi.useRealTimers();
    const client: DynamoDBClient = localDynamoClient();
    const tableName = await createEventLogTable(client);
    const eventLog = new DynamoDBEventLog({ client, tableName });
    await append(eventLog, 'orders', 'before');
    const { handler } = setup({
      eventLog,
      config: { deadlineMarginMs: 1_000, pollMinMs: 50, pollMaxMs: 100 },
    });
    const stream = new RecordingResponseStream();

    // Act
    const done = handler(
      functionUrlEvent({ query: 'channel=orders&lastEventId=earliest' }),
      stream,
      invocationContext(2_500),
    );
    await stream.until((s) => s.wire().includes('data: before\n'));
    await append(eventLog, 'orders', 'during');
    await done;

    // Assess
    const parsed = parseSse(stream.body());
    expect(parsed.complete).toBe(true);
    expect(published(parsed)).toEqual(['before', 'during']);
    expect(stream.writableEnded).toBe(true);
    client.destroy();
  });
});

describe('Function: toHttpRequest', () => {
  it('lower-cases header names, joins cookies back, and keeps repeated parameters', () => {
    // Prepare
    const event = functionUrlEvent({
      method: 'get',
      query: 'channel=a&channel=b%2Fc&envelope=1',
      headers: { 'Last-Event-ID': '1.abc', Authorization: 'Bearer t' },
      cookies: ['a=1', 'b=2'],
    });

    // Act
    const request: HttpRequest = toHttpRequest(event, START + 1_000);

    // Assess
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/events');
    expect(request.query.getAll('channel')).toEqual(['a', 'b/c']);
    expect(request.query.get('envelope')).toBe('1');
    expect(request.headers['last-event-id']).toBe('1.abc');
    expect(request.headers.authorization).toBe('Bearer t');
    expect(request.headers.cookie).toBe('a=1; b=2');
    expect(request.deadline).toBe(START + 1_000);
  });

  it('reads an empty path as / and an absent query as empty', () => {
    // Prepare
    const event = functionUrlEvent({ path: '' });

    // Act
    const request = toHttpRequest(event, START);

    // Assess
    expect(request.path).toBe('/');
    expect([...request.query]).toEqual([]);
  });
});

describe('Function: streamify', () => {
  it('wraps the handler with awslambda.streamifyResponse inside the runtime', () => {
    // Prepare
    const handler: StreamingHandler = async () => {};

    // Act
    const wrapped = streamify(handler);

    // Assess
    expect(wrapped).not.toBe(handler);
    expect(isStreamified(wrapped)).toBe(true);
  });

  it('returns the handler itself where there is no awslambda global', () => {
    // Prepare
    const handler: StreamingHandler = async () => {};

    // Act
    let wrapped: StreamingHandler | undefined;
    Reflect.deleteProperty(globalThis, 'awslambda');
    try {
      wrapped = streamify(handler);
    } finally {
      installAwsLambdaShim();
    }

    // Assess
    expect(wrapped).toBe(handler);
  });

  it('returns the handler itself where awslambda is an empty object (left by the SDK)', () => {
    // Prepare: @aws/lambda-invoke-store, loaded by the AWS SDK and powertools, runs
    // `globalThis.awslambda = globalThis.awslambda || {}` outside Lambda too.
    const handler: StreamingHandler = async () => {};

    // Act
    let wrapped: StreamingHandler | undefined;
    Reflect.set(globalThis, 'awslambda', {});
    try {
      wrapped = streamify(handler);
    } finally {
      installAwsLambdaShim();
    }

    // Assess
    expect(wrapped).toBe(handler);
  });
});

describe('Module: functions/handlers/stream.ts', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('exports a streamified handler that answers without touching DynamoDB', async () => {
    // Prepare
    vi.stubEnv('TABLE_NAME', 'events-entry-test');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    vi.resetModules();
    const { handler } = await import('../../../../../functions/handlers/stream.js');
    const stream = new RecordingResponseStream();

    // Act
    await handler(functionUrlEvent({ path: '/nope' }), stream, invocationContext(30_000));

    // Assess
    expect(isStreamified(handler)).toBe(true);
    expect(stream.prelude?.statusCode).toBe(404);
    expect(JSON.parse(stream.body())).toMatchObject({ error: { code: 'not_found' } });
  });

  it('names TABLE_NAME when it is missing', async () => {
    // Prepare
    vi.stubEnv('TABLE_NAME', '');
    vi.resetModules();

    // Act
    const loading = import('../../../../../functions/handlers/stream.js');

    // Assess
    await expect(loading).rejects.toThrow('TABLE_NAME');
  });
});
