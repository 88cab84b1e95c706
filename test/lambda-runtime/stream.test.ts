/**
 * The stream function's bundle from cdk.out under AWS's runtime interface client (Node 22),
 * behind the fake Runtime API and the function URL front, reading DynamoDB Local, with the
 * npm `eventsource` client (reconnects with Last-Event-ID and honours `retry:`).
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventSource } from 'eventsource';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDBEventLog } from '../../functions/adapters/dynamodb/event-log.js';
import { eventLogTableDefinition } from '../../functions/adapters/dynamodb/table.js';
import { metricTotal, metricValues, parseEmf } from '../support/emf.js';
import { type FunctionUrl, startFunctionUrl } from './harness/function-url.js';
import type { LambdaFunction } from './harness/lambda-function.js';
import { PRELUDE_CONTENT_TYPE } from './harness/prelude.js';
import type { Invocation } from './harness/runtime-api.js';
import {
  createFunction,
  dynamoEndpointEnv,
  functionEnvironment,
  harnessContext,
  lambdaTestsEnabled,
  waitFor,
} from './support.js';

interface Received {
  readonly type: string;
  readonly data: string;
  readonly id: string;
  readonly at: number;
}

/** An EventSource that records every event, and the errors (stream ends) it saw. */
function subscribe(url: string, types: readonly string[] = ['message', 'stream.open']) {
  const source = new EventSource(url);
  const events: Received[] = [];
  const errors: number[] = [];
  let opens = 0;
  source.addEventListener('open', () => {
    opens += 1;
  });
  source.addEventListener('error', () => errors.push(Date.now()));
  for (const type of types) {
    source.addEventListener(type, (e) =>
      events.push({ type, data: e.data, id: e.lastEventId, at: Date.now() }),
    );
  }
  return {
    source,
    events,
    errors,
    get opens() {
      return opens;
    },
    messages: () => events.filter((e) => e.type === 'message').map((e) => e.data),
  };
}

/** SSE events (blocks ending in a blank line) in a text. */
function sseEvents(text: string): string[] {
  return text.split('\n\n').filter((block) => block.trim() !== '');
}

describe.skipIf(!lambdaTestsEnabled)('stream bundle under aws-lambda-ric', () => {
  let client: DynamoDBClient;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(() => {
    client = new DynamoDBClient({
      endpoint: inject('dynamoEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    return () => client.destroy();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(env: Record<string, string>) {
    const tableName = `lambda-${randomUUID()}`;
    await client.send(new CreateTableCommand(eventLogTableDefinition(tableName)));
    const log = new DynamoDBEventLog({ client, tableName });
    const { stream } = harnessContext();
    const fn: LambdaFunction = createFunction(
      'sse-stream',
      stream,
      functionEnvironment(stream, {
        TABLE_NAME: tableName,
        ...dynamoEndpointEnv(),
        STREAM_LIFETIME_JITTER: '0',
        POLL_MIN_MS: '50',
        POLL_MAX_MS: '200',
        RETRY_MS: '100',
        ...env,
      }),
    );
    cleanups.push(() => fn.close());
    const front: FunctionUrl = await startFunctionUrl(fn);
    cleanups.push(() => front.close());
    return { tableName, log, fn, front };
  }

  function track(source: EventSource) {
    cleanups.push(() => source.close());
  }

  it('delivers each event as it is published, each write its own chunk', async () => {
    const { log, fn, front } = await setUp({ STREAM_LIFETIME_SECONDS: '8' });
    const channel = 'fidelity/chunks';
    const sub = subscribe(`${front.url}/events?channel=${encodeURIComponent(channel)}`);
    track(sub.source);
    await waitFor(
      () => sub.events.length > 0,
      20_000,
      () => `no stream.open:\n${fn.output()}`,
    );

    const published: { data: string; at: number }[] = [];
    for (let i = 1; i <= 5; i += 1) {
      const data = JSON.stringify({ n: i });
      await log.append(channel, [{ event: 'message', data, dedupeKey: `k${i}` }]);
      // Published: readable in the table from now on.
      published.push({ data, at: Date.now() });
      await waitFor(() => sub.messages().length >= i, 5_000, `event ${i} not received`);
      await new Promise((r) => setTimeout(r, 300));
    }
    // The stream ends by itself at its lifetime; the client then reconnects.
    const [invocation] = fn.invocations;
    if (invocation === undefined) throw new Error('no invocation');
    const outcome = await invocation.done;
    sub.source.close();

    expect(outcome.kind).toBe('response');
    if (outcome.kind !== 'response') return;
    expect(outcome.mode).toBe('streaming');
    expect(outcome.contentType).toBe(PRELUDE_CONTENT_TYPE);
    expect(outcome.error).toBeUndefined();
    const endedAt = outcome.at;

    const figures = published.map((event) => {
      const chunk = invocation.chunks.find((c) => c.bytes.toString('utf8').includes(event.data));
      const got = sub.events.find((e) => e.data === event.data);
      return `${(chunk?.at ?? Number.NaN) - event.at}/${(got?.at ?? Number.NaN) - event.at}/${endedAt - (chunk?.at ?? Number.NaN)}`;
    });
    console.log(
      `publish → Runtime API chunk / → client / chunk → stream end (ms): ${figures.join(', ')}`,
    );
    const exchange = front.exchanges.find((e) => e.invocation === invocation);
    for (const [i, event] of published.entries()) {
      // At the Runtime API: the chunk that carries the event holds that event alone.
      const chunk = invocation.chunks.find((c) => c.bytes.toString('utf8').includes(event.data));
      expect(chunk, `event ${i + 1} at the Runtime API`).toBeDefined();
      if (chunk === undefined) continue;
      const text = chunk.bytes.toString('utf8');
      expect(sseEvents(text)).toHaveLength(1);
      expect(text).toMatch(/^data: [^\n]+\nid: [^\n]+\n\n$/);
      // It arrived when published, not at the end of the stream.
      expect(chunk.at - event.at).toBeLessThan(1_500);
      expect(endedAt - chunk.at).toBeGreaterThan(1_000);
      // The front passed it on as its own chunk, at once.
      const forwarded = exchange?.sent.find((c) => c.bytes.toString('utf8').includes(event.data));
      expect(forwarded?.bytes.toString('utf8')).toBe(text);
      expect((forwarded?.at ?? Number.POSITIVE_INFINITY) - chunk.at).toBeLessThan(100);
      // The client got it as soon.
      const got = sub.events.find((e) => e.data === event.data);
      expect(got).toBeDefined();
      expect((got?.at ?? Number.POSITIVE_INFINITY) - event.at).toBeLessThan(1_500);
    }
    const chunksWithEvents = invocation.chunks.filter((c) =>
      published.some((p) => c.bytes.toString('utf8').includes(p.data)),
    );
    expect(new Set(chunksWithEvents).size).toBe(published.length);
  });

  it('resumes with Last-Event-ID across lifetime rotations: every event once, in order', async () => {
    const { log, fn, front } = await setUp({ STREAM_LIFETIME_SECONDS: '2' });
    const channel = 'fidelity/rotation';
    const sub = subscribe(`${front.url}/events?channel=${encodeURIComponent(channel)}`);
    track(sub.source);
    await waitFor(
      () => sub.events.length > 0,
      20_000,
      () => `no stream.open:\n${fn.output()}`,
    );

    // Publish for about three lifetimes, so that several streams end and resume.
    const published: string[] = [];
    const until = Date.now() + 6_500;
    for (let i = 1; Date.now() < until; i += 1) {
      const data = JSON.stringify({ n: i });
      published.push(data);
      await log.append(channel, [{ event: 'message', data, dedupeKey: `r${i}` }]);
      await new Promise((r) => setTimeout(r, 150));
    }
    await waitFor(
      () => sub.messages().length >= published.length,
      10_000,
      () => `got ${sub.messages().length} of ${published.length}`,
    );
    sub.source.close();

    expect(sub.messages()).toEqual(published);
    const streams = fn.invocations.filter((i) => eventPath(i) === '/events');
    expect(streams.length).toBeGreaterThanOrEqual(3);
    // Every stream after the first resumed from the client's Last-Event-ID.
    for (const resumed of streams.slice(1)) {
      expect(eventHeaders(resumed)['last-event-id']).toMatch(/^\d+\./);
    }
    // The rotations ended cleanly (no error trailers): they are lifetime ends.
    for (const ended of streams.slice(0, -1)) {
      const outcome = await ended.done;
      expect(outcome.kind === 'response' && outcome.error === undefined).toBe(true);
    }
    // Each invocation wrote its stream metrics before it settled: its stream opened,
    // ended by its lifetime, and the events it delivered, with their lag.
    const metrics = parseEmf(fn.output());
    const ended = streams.length - 1;
    expect(metrics.every((r) => r.namespace === 'SsePubSub')).toBe(true);
    expect(metricTotal(metrics, 'StreamsOpened')).toBeGreaterThanOrEqual(ended);
    expect(metricTotal(metrics, 'StreamsEnded', { Reason: 'lifetime' })).toBeGreaterThanOrEqual(
      ended,
    );
    const delivered = metricTotal(metrics, 'EventsDelivered') ?? 0;
    expect(delivered).toBeGreaterThan(0);
    expect(delivered).toBeLessThanOrEqual(published.length);
    const lags = metricValues(metrics, 'DeliveryLag');
    expect(lags.length).toBeGreaterThan(0);
    expect(lags.every((lag) => lag >= 0 && lag < 10_000)).toBe(true);
  });

  it('ends a failing stream with the runtime error trailers; the client sees the end', async () => {
    const { tableName, log, fn, front } = await setUp({ STREAM_LIFETIME_SECONDS: '30' });
    const channel = 'fidelity/failure';
    const sub = subscribe(`${front.url}/events?channel=${encodeURIComponent(channel)}`);
    track(sub.source);
    await waitFor(
      () => sub.events.length > 0,
      20_000,
      () => `no stream.open:\n${fn.output()}`,
    );
    await log.append(channel, [{ event: 'message', data: 'before', dedupeKey: 'b' }]);
    await waitFor(() => sub.messages().length === 1, 5_000, 'first event not received');
    const [invocation] = fn.invocations;
    if (invocation === undefined) throw new Error('no invocation');

    // The table goes away under the running stream: its next read fails.
    await client.send(new DeleteTableCommand({ TableName: tableName }));
    const outcome = await invocation.done;
    await waitFor(() => sub.errors.length > 0, 5_000, 'the client did not see the stream end');
    sub.source.close();

    expect(outcome.kind).toBe('response');
    if (outcome.kind !== 'response') return;
    expect(outcome.mode).toBe('streaming');
    expect(outcome.error?.errorType).toBe('ResourceNotFoundException');
    expect(outcome.error?.body).toMatchObject({
      errorType: 'ResourceNotFoundException',
      errorMessage: expect.any(String),
    });
    expect(Object.keys(outcome.trailers).sort()).toEqual([
      'lambda-runtime-function-error-body',
      'lambda-runtime-function-error-type',
    ]);
    // The body got as far as the event before the failure.
    expect(invocation.body().toString('utf8')).toContain('data: before');
    // The front cut the client's response instead of ending it cleanly.
    const exchange = front.exchanges.find((e) => e.invocation === invocation);
    expect(exchange?.ending).toBe('cut');
    // The environment survived the failed invocation and asked for the next one.
    const environment = fn.environmentOf(invocation);
    await waitFor(() => invocation.nextRequestedAt !== undefined, 2_000, 'no /next after error');
    expect(environment?.state).toBe('ready');
  });

  it('asks for the next invocation promptly after a stream ends', async () => {
    const { fn, front } = await setUp({ STREAM_LIFETIME_SECONDS: '2', HEARTBEAT_SECONDS: '1' });
    const sub = subscribe(`${front.url}/events?channel=fidelity%2Fidle`);
    track(sub.source);
    // Two rotations: the first stream, and the one that resumed on the same environment.
    await waitFor(
      () => sub.opens >= 2,
      20_000,
      () => `no reconnect:\n${fn.output()}`,
    );
    sub.source.close();
    const ended = fn.invocations.filter((i) => i.outcome !== undefined);
    expect(ended.length).toBeGreaterThanOrEqual(1);
    const gaps: number[] = [];
    for (const invocation of ended) {
      await waitFor(() => invocation.nextRequestedAt !== undefined, 5_000, 'no /next');
      const outcome = await invocation.done;
      expect(outcome.kind).toBe('response');
      gaps.push((invocation.nextRequestedAt ?? 0) - (invocation.endedAt ?? 0));
    }
    console.log(`response end → next /next: ${gaps.map((g) => `${g} ms`).join(', ')}`);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(0);
      expect(gap).toBeLessThan(1_000);
    }
    // And the stream itself ran its lifetime with heartbeats, not until the deadline.
    const first = ended[0];
    if (first?.deliveredAt !== undefined && first.endedAt !== undefined) {
      expect(first.endedAt - first.deliveredAt).toBeLessThan(4_000);
    }
  });

  it('gives each concurrent request its own environment, and reuses idle ones', async () => {
    const { fn, front } = await setUp({ STREAM_LIFETIME_SECONDS: '3' });
    const a = subscribe(`${front.url}/events?channel=fidelity%2Fa`);
    const b = subscribe(`${front.url}/events?channel=fidelity%2Fb`);
    track(a.source);
    track(b.source);
    await waitFor(
      () => a.events.length > 0 && b.events.length > 0,
      20_000,
      () => `no stream.open:\n${fn.output()}`,
    );
    expect(fn.environments).toHaveLength(2);
    const [first, second] = fn.invocations;
    expect(fn.environmentOf(first as Invocation)).not.toBe(fn.environmentOf(second as Invocation));
    a.source.close();
    b.source.close();
    // Once the streams have ended, a new request lands on a warm environment.
    await Promise.all(fn.invocations.map((i) => i.done));
    await waitFor(() => fn.environments.some((e) => e.idle), 5_000, 'no idle environment');
    const response = await fetch(`${front.url}/poll?channel=fidelity%2Fa`);
    expect(response.status).toBe(200);
    await response.json();
    expect(fn.environments).toHaveLength(2);
  });

  it('answers with the prelude status and headers, hop-by-hop ones dropped', async () => {
    const { fn, front } = await setUp({});
    const missing = await fetch(`${front.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });

    const controller = new AbortController();
    const response = await fetch(`${front.url}/events?channel=fidelity%2Fheaders`, {
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    controller.abort();
    const [, stream] = fn.invocations;
    expect(stream?.start?.contentType).toBe(PRELUDE_CONTENT_TYPE);
    const exchange = front.exchanges.find((e) => e.invocation === stream);
    for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'content-length']) {
      expect(exchange?.headers).not.toHaveProperty(name);
    }
  });
});

function eventOf(invocation: Invocation): { rawPath?: string; headers?: Record<string, string> } {
  return invocation.input.event as { rawPath?: string; headers?: Record<string, string> };
}

function eventPath(invocation: Invocation): string | undefined {
  return eventOf(invocation).rawPath;
}

function eventHeaders(invocation: Invocation): Record<string, string> {
  return eventOf(invocation).headers ?? {};
}
