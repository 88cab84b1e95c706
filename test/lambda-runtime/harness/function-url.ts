/**
 * A stand-in for a Lambda function URL in front of a {@link LambdaFunction}: a node:http
 * server on 127.0.0.1 that turns each request into a function URL event (payload format
 * 2.0), invokes the function, and answers with what the function sent.
 *
 * - Streamed responses (`RESPONSE_STREAM`) go to the client as they arrive. With the
 *   prelude content type, the JSON prelude before the 8 NUL bytes gives the status,
 *   headers and cookies; without it the body is sent as is, 200.
 * - Hop-by-hop headers from the function are dropped: the front frames the response.
 * - A buffered response is read as the function URL reads a format-2.0 result: an object
 *   with `statusCode` is a response description, anything else is a 200 JSON body.
 * - A function error, a timeout or a crash before the first byte is a 502; after it, the
 *   connection is cut without the closing chunk (error trailers stay between the runtime
 *   and the service), so the client sees an unfinished stream and reconnects.
 * - The function is never told that the client went away (FACTS.md): the invocation runs
 *   on, and what it still sends is dropped.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import type { LambdaFunction } from './lambda-function.js';
import { PRELUDE_CONTENT_TYPE, type Prelude, PreludeParser, toPrelude } from './prelude.js';
import type { BodyChunk, Invocation, InvocationOutcome } from './runtime-api.js';

/** Headers that belong to one connection or to the framing (RFC 9110 §7.6.1). */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const URL_ID = 'harnessurlid0000000000000000000';

/** What happened to one request at the front, with times. */
export interface FrontExchange {
  readonly method: string;
  readonly path: string;
  readonly receivedAt: number;
  invocation: Invocation | undefined;
  status: number | undefined;
  headers: Record<string, string> | undefined;
  /** Body bytes sent to the client, when they were handed to the socket. */
  readonly sent: BodyChunk[];
  /** How the response to the client ended. */
  ending: 'complete' | 'cut' | 'client-gone' | undefined;
  endedAt: number | undefined;
  clientGoneAt: number | undefined;
}

export interface FunctionUrl {
  readonly url: string;
  readonly exchanges: readonly FrontExchange[];
  close(): Promise<void>;
}

/** The function URL event for a request (what Lambda builds for payload format 2.0). */
export function toFunctionUrlEvent(
  request: {
    readonly method: string;
    readonly url: string;
    readonly headers: IncomingMessage['headers'];
    readonly sourceIp: string;
    readonly body?: Buffer | undefined;
  },
  now: number = Date.now(),
): LambdaFunctionURLEvent {
  const target = new URL(request.url, 'http://function.url');
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const joined = Array.isArray(value) ? value.join(',') : value;
    if (key === 'cookie') {
      cookies = joined
        .split(';')
        .map((c) => c.trim())
        .filter((c) => c !== '');
      continue;
    }
    headers[key] = joined;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of target.searchParams) {
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  }
  const requestId = randomUUID();
  const rawQueryString = target.search.replace(/^\?/, '');
  const domainName = `${URL_ID}.lambda-url.us-east-1.on.aws`;
  const event: LambdaFunctionURLEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath: target.pathname,
    rawQueryString,
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: URL_ID,
      domainName,
      domainPrefix: URL_ID,
      http: {
        method: request.method.toUpperCase(),
        path: target.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    isBase64Encoded: false,
  };
  if (cookies !== undefined) event.cookies = cookies;
  if (rawQueryString !== '') event.queryStringParameters = query;
  if (request.body !== undefined && request.body.length > 0) {
    event.body = request.body.toString('utf8');
  }
  return event;
}

/** The function's headers without the hop-by-hop ones (and without a length, for a stream). */
export function responseHeaders(
  prelude: Prelude,
  options: { readonly streamed: boolean },
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(prelude.headers)) {
    const key = name.toLowerCase();
    if (HOP_BY_HOP_HEADERS.has(key)) continue;
    if (options.streamed && key === 'content-length') continue;
    headers[key] = value;
  }
  if (prelude.cookies.length > 0) headers['set-cookie'] = [...prelude.cookies];
  return headers;
}

/** Reads a buffered format-2.0 result the way a function URL does. */
export function bufferedResult(body: Buffer): { prelude: Prelude; body: Buffer } {
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    'statusCode' in parsed
  ) {
    const result = parsed as {
      body?: unknown;
      isBase64Encoded?: unknown;
    };
    const payload =
      typeof result.body === 'string'
        ? Buffer.from(result.body, result.isBase64Encoded === true ? 'base64' : 'utf8')
        : Buffer.alloc(0);
    return { prelude: toPrelude(parsed), body: payload };
  }
  return {
    prelude: { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [] },
    body,
  };
}

export async function startFunctionUrl(fn: LambdaFunction): Promise<FunctionUrl> {
  const exchanges: FrontExchange[] = [];
  const server: Server = createServer((req, res) => {
    void serve(fn, req, res, exchanges);
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function serve(
  fn: LambdaFunction,
  req: IncomingMessage,
  res: ServerResponse,
  exchanges: FrontExchange[],
): Promise<void> {
  const exchange: FrontExchange = {
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    receivedAt: Date.now(),
    invocation: undefined,
    status: undefined,
    headers: undefined,
    sent: [],
    ending: undefined,
    endedAt: undefined,
    clientGoneAt: undefined,
  };
  exchanges.push(exchange);
  let clientGone = false;
  res.once('close', () => {
    if (!res.writableFinished && exchange.ending === undefined) {
      clientGone = true;
      exchange.clientGoneAt = Date.now();
      exchange.ending = 'client-gone';
      exchange.endedAt = Date.now();
    }
  });

  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const event = toFunctionUrlEvent({
    method: exchange.method,
    url: exchange.path,
    headers: req.headers,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    body: Buffer.concat(chunks),
  });

  let invocation: Invocation;
  try {
    invocation = await fn.invoke(event);
  } catch (error) {
    sendError(res, exchange, 502, `invoke failed: ${(error as Error).message}`);
    return;
  }
  exchange.invocation = invocation;

  const send = (bytes: Buffer) => {
    if (clientGone || bytes.length === 0) return;
    res.write(bytes);
    exchange.sent.push({ bytes, at: Date.now() });
  };
  const open = (prelude: Prelude, streamed: boolean) => {
    if (clientGone) return;
    const headers = responseHeaders(prelude, { streamed });
    exchange.status = prelude.statusCode;
    exchange.headers = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]),
    );
    res.writeHead(prelude.statusCode, headers);
    // Send the status line and headers now, before any body byte.
    res.flushHeaders();
  };

  const parser = new PreludeParser();
  let passThrough = false;
  let broken = false;
  invocation.on('start', (start) => {
    if (start.mode !== 'streaming') return;
    if (start.contentType !== PRELUDE_CONTENT_TYPE) {
      passThrough = true;
      open({ statusCode: 200, headers: { 'content-type': start.contentType }, cookies: [] }, true);
    }
  });
  invocation.on('chunk', (chunk) => {
    if (broken) return;
    if (passThrough) {
      send(chunk.bytes);
      return;
    }
    try {
      const hadPrelude = parser.prelude !== undefined;
      const body = parser.push(chunk.bytes);
      if (!hadPrelude && parser.prelude !== undefined) open(parser.prelude, true);
      send(body);
    } catch {
      broken = true;
    }
  });

  const outcome: InvocationOutcome = await invocation.done;
  if (clientGone) return;
  finish(res, exchange, outcome, { broken, parser });
}

function finish(
  res: ServerResponse,
  exchange: FrontExchange,
  outcome: InvocationOutcome,
  stream: { broken: boolean; parser: PreludeParser },
): void {
  const started = res.headersSent;
  const failed =
    outcome.kind !== 'response' ||
    outcome.error !== undefined ||
    stream.broken ||
    (outcome.mode === 'streaming' && stream.parser.pending > 0);
  if (failed) {
    if (started) {
      // Cut: no terminating chunk, so the client knows the body is incomplete.
      exchange.ending = 'cut';
      exchange.endedAt = Date.now();
      res.destroy();
    } else {
      sendError(res, exchange, 502, describe(outcome));
    }
    return;
  }
  if (outcome.mode === 'buffered') {
    let result: { prelude: Prelude; body: Buffer };
    try {
      result = bufferedResult(outcome.body);
    } catch (error) {
      sendError(res, exchange, 502, (error as Error).message);
      return;
    }
    const headers = responseHeaders(result.prelude, { streamed: false });
    headers['content-length'] = result.body.length;
    exchange.status = result.prelude.statusCode;
    exchange.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)]));
    res.writeHead(result.prelude.statusCode, headers);
    exchange.sent.push({ bytes: result.body, at: Date.now() });
    res.end(result.body);
  } else {
    // A stream that sent no prelude at all: an empty 200.
    if (!started) {
      exchange.status = 200;
      exchange.headers = {};
      res.writeHead(200);
    }
    res.end();
  }
  exchange.ending = 'complete';
  exchange.endedAt = Date.now();
}

function describe(outcome: InvocationOutcome): string {
  switch (outcome.kind) {
    case 'response':
      return outcome.error === undefined
        ? 'bad response'
        : `function error ${outcome.error.errorType}`;
    case 'error':
    case 'init-error':
      return `function error ${outcome.error.errorType}`;
    case 'too-large':
      return `response too large (${outcome.bytes} bytes)`;
    case 'timeout':
      return 'timed out';
    case 'crashed':
      return outcome.reason;
  }
}

function sendError(res: ServerResponse, exchange: FrontExchange, status: number, reason: string) {
  const body = JSON.stringify({ Message: 'Internal Server Error', reason });
  exchange.status = status;
  exchange.headers = { 'content-type': 'application/json' };
  exchange.ending = 'complete';
  exchange.endedAt = Date.now();
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-errortype': 'InternalServerError',
  });
  res.end(body);
}
