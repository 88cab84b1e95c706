/**
 * The harness itself: the pieces that need no runtime (prelude parsing, the function URL
 * event, header handling), and, under aws-lambda-ric, small fixture handlers that show
 * what the front and the fake Runtime API make of each kind of response, and that the
 * next-invocation measure does catch an invocation kept busy after its stream ended.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bufferedResult,
  type FunctionUrl,
  responseHeaders,
  startFunctionUrl,
  toFunctionUrlEvent,
} from './harness/function-url.js';
import { LambdaFunction } from './harness/lambda-function.js';
import { PRELUDE_CONTENT_TYPE, PreludeError, PreludeParser } from './harness/prelude.js';
import { harnessContext, lambdaTestsEnabled, waitFor } from './support.js';

describe('prelude parser', () => {
  it('splits the prelude from the body across any chunking', () => {
    const wire = Buffer.concat([
      Buffer.from(JSON.stringify({ statusCode: 200, headers: { 'content-type': 'text/plain' } })),
      Buffer.alloc(8),
      Buffer.from('hello\0world'),
    ]);
    for (let size = 1; size <= wire.length; size += 1) {
      const parser = new PreludeParser();
      const body: Buffer[] = [];
      for (let at = 0; at < wire.length; at += size)
        body.push(parser.push(wire.subarray(at, at + size)));
      expect(parser.prelude).toEqual({
        statusCode: 200,
        headers: { 'content-type': 'text/plain' },
        cookies: [],
      });
      expect(Buffer.concat(body).toString('utf8')).toBe('hello\0world');
    }
  });

  it('rejects a prelude that is not a JSON object', () => {
    expect(() =>
      new PreludeParser().push(Buffer.concat([Buffer.from('[1]'), Buffer.alloc(8)])),
    ).toThrow(PreludeError);
    expect(() =>
      new PreludeParser().push(Buffer.concat([Buffer.from('{x'), Buffer.alloc(8)])),
    ).toThrow(PreludeError);
  });
});

describe('function URL front', () => {
  it('builds a payload format 2.0 event', () => {
    const event = toFunctionUrlEvent(
      {
        method: 'get',
        url: '/events?channel=a&channel=b&x=%20',
        headers: {
          host: '127.0.0.1:1',
          'user-agent': 'test',
          cookie: 'a=1; b=2',
          'Last-Event-ID': '3.abc',
          'x-multi': ['1', '2'],
        },
        sourceIp: '127.0.0.1',
      },
      1_800_000_000_000,
    );
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/events',
      rawQueryString: 'channel=a&channel=b&x=%20',
      cookies: ['a=1', 'b=2'],
      headers: {
        host: '127.0.0.1:1',
        'user-agent': 'test',
        'last-event-id': '3.abc',
        'x-multi': '1,2',
      },
      queryStringParameters: { channel: 'a,b', x: ' ' },
      requestContext: {
        http: {
          method: 'GET',
          path: '/events',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'test',
        },
        timeEpoch: 1_800_000_000_000,
      },
      isBase64Encoded: false,
    });
    expect(event.headers).not.toHaveProperty('cookie');
    expect(event).not.toHaveProperty('body');
  });

  it('drops hop-by-hop headers, and the length of a stream', () => {
    const headers = responseHeaders(
      {
        statusCode: 200,
        headers: {
          'Content-Type': 'text/event-stream',
          Connection: 'keep-alive',
          'keep-alive': 'timeout=5',
          'transfer-encoding': 'chunked',
          trailer: 'x',
          upgrade: 'h2c',
          te: 'trailers',
          'content-length': '10',
        },
        cookies: ['a=1'],
      },
      { streamed: true },
    );
    expect(headers).toEqual({ 'content-type': 'text/event-stream', 'set-cookie': ['a=1'] });
  });

  it('reads buffered results as a function URL does', () => {
    expect(
      bufferedResult(Buffer.from(JSON.stringify({ statusCode: 204, headers: { a: 'b' } }))),
    ).toEqual({
      prelude: { statusCode: 204, headers: { a: 'b' }, cookies: [] },
      body: Buffer.alloc(0),
    });
    const plain = bufferedResult(Buffer.from('{"batchItemFailures":[]}'));
    expect(plain.prelude.statusCode).toBe(200);
    expect(plain.body.toString()).toBe('{"batchItemFailures":[]}');
  });
});

const FIXTURES = fileURLToPath(new URL('./fixtures/handlers', import.meta.url));

describe.skipIf(!lambdaTestsEnabled)('fixture handlers under aws-lambda-ric', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function fixture(handler: string, timeoutMs = 30_000) {
    const fn = new LambdaFunction(
      {
        name: `fixture-${handler}`,
        taskRoot: FIXTURES,
        handler: `index.${handler}`,
        memoryMb: 128,
        timeoutMs,
        environment: {},
      },
      harnessContext().install,
    );
    cleanups.push(() => fn.close());
    const front: FunctionUrl = await startFunctionUrl(fn);
    cleanups.push(() => front.close());
    return { fn, front };
  }

  it('streams chunk by chunk with the prelude status, headers and cookies', async () => {
    const { fn, front } = await fixture('leftoverTimer');
    const response = await fetch(`${front.url}/x`);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-fixture')).toBe('yes');
    expect(response.headers.get('connection')).not.toBe('close');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
    expect(await response.text()).toBe('one\ntwo\nthree\n');
    const [invocation] = fn.invocations;
    if (invocation === undefined) throw new Error('no invocation');
    expect(invocation.start?.contentType).toBe(PRELUDE_CONTENT_TYPE);
    // Prelude, delimiter, then one chunk per write, 200 ms apart.
    const words = invocation.chunks.map((c) => c.bytes.toString('utf8')).slice(2);
    expect(words).toEqual(['one\n', 'two\n', 'three\n']);
    const times = invocation.chunks.slice(2).map((c) => c.at);
    expect((times[2] ?? 0) - (times[0] ?? 0)).toBeGreaterThan(300);
    // A leftover interval does not hold aws-lambda-ric back: it asks for the next
    // invocation as soon as the handler's promise settled and the response was sent.
    await waitFor(() => invocation.nextRequestedAt !== undefined, 2_000, 'no /next');
    expect((invocation.nextRequestedAt ?? 0) - (invocation.endedAt ?? 0)).toBeLessThan(500);
  });

  it('measures an invocation kept busy after its stream ended', async () => {
    const { fn, front } = await fixture('lateReturn');
    const response = await fetch(`${front.url}/`);
    // The client has the whole body at once; the invocation goes on.
    expect(await response.text()).toBe('done\n');
    const [invocation] = fn.invocations;
    if (invocation === undefined) throw new Error('no invocation');
    await waitFor(() => invocation.nextRequestedAt !== undefined, 5_000, 'no /next');
    const gap = (invocation.nextRequestedAt ?? 0) - (invocation.endedAt ?? 0);
    expect(gap).toBeGreaterThan(1_200);
  });

  it('cuts the client response when the handler fails mid-stream', async () => {
    const { fn, front } = await fixture('failsMidStream');
    const response = await fetch(`${front.url}/`);
    expect(response.status).toBe(201);
    await expect(response.text()).rejects.toThrow();
    const outcome = await fn.invocations[0]?.done;
    expect(outcome).toMatchObject({
      kind: 'response',
      mode: 'streaming',
      error: {
        errorType: 'RangeError',
        body: { errorType: 'RangeError', errorMessage: 'broke after the first byte' },
      },
    });
  });

  it('passes a stream without a prelude through as a 200', async () => {
    const { front } = await fixture('raw');
    const response = await fetch(`${front.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(await response.text()).toBe('raw body');
  });

  it('answers a buffered result with its status, headers and cookies', async () => {
    const { fn, front } = await fixture('buffered');
    const response = await fetch(`${front.url}/b?q=1`, { headers: { cookie: 'k=v' } });
    expect(response.status).toBe(202);
    expect(response.headers.getSetCookie()).toEqual(['c=3']);
    expect(await response.json()).toEqual({ path: '/b', query: 'q=1', cookies: ['k=v'] });
    expect(fn.invocations[0]?.outcome).toMatchObject({ kind: 'response', mode: 'buffered' });
  });

  it('kills an environment whose invocation runs past its deadline: 502', async () => {
    const { fn, front } = await fixture('slow', 1_000);
    const started = Date.now();
    const response = await fetch(`${front.url}/`);
    expect(response.status).toBe(502);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fn.invocations[0]?.outcome?.kind).toBe('timeout');
    await waitFor(() => fn.environments[0]?.state === 'dead', 5_000, 'still alive');
  });
});
