/**
 * Binds the shared routes ({@link createRouter}) to a Lambda function URL in
 * `RESPONSE_STREAM` mode. Everything Lambda-specific about serving HTTP lives here:
 * the function URL event (payload format 2.0), the `awslambda` global the Node.js
 * runtime installs, the metadata prelude, back-pressure, and how a failure is reported.
 *
 * Protocol facts this relies on (AWS docs "Configuring a Lambda function to stream
 * responses", and the runtime client's `HttpResponseStream` / `ResponseStream`):
 * - `awslambda.HttpResponseStream.from(stream, { statusCode, headers })` returns the same
 *   stream with a hook that writes the JSON prelude and 8 NUL bytes right before the
 *   first `write()`. Only `write()` runs that hook: `end(chunk)` or a bare `end()` would
 *   send the body without the prelude (a 502, or a 200 without our headers). So a body,
 *   even an empty one, always goes through `write()`, and `end()` is called without one.
 * - Status and headers are final once the first byte is written.
 * - When the handler rejects, the runtime adds the trailers
 *   `Lambda-Runtime-Function-Error-Type` / `-Body` and ends the stream itself. Node sends
 *   trailers only with the terminating chunk, so a stream already ended by the handler
 *   would drop them and the failed invocation would look like a success.
 * - The function is never told that the client left (FACTS.md); streams end themselves.
 *
 * @see ../http/router.ts
 */
import type { Writable } from 'node:stream';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { describeError, type Log } from '../../core/log.js';
import type { StreamSummary } from '../../core/stream-session.js';
import {
  errorBody,
  type HttpHeaders,
  type HttpRequest,
  type HttpResponse,
  JSON_HEADERS,
} from '../../http/http-types.js';
import { requestLogFields } from '../../http/request-log-fields.js';

/** What `HttpResponseStream.from` sends before the body. */
export interface ResponsePrelude {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** The part of Lambda's context the adapter uses; the runtime passes a whole `Context`. */
export type InvocationContext = Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>;

/** A handler in the shape `awslambda.streamifyResponse` takes and returns. */
export type StreamingHandler<TEvent = LambdaFunctionURLEvent> = (
  event: TEvent,
  responseStream: Writable,
  context: InvocationContext,
) => Promise<void>;

/**
 * The minimal shape of the `awslambda` global that the Lambda Node.js runtime installs
 * before it loads the handler module. It is not declared with `declare global`:
 * `@types/aws-lambda` already declares `awslambda` as an always-present namespace (a
 * second declaration is a duplicate identifier), which is untrue outside Lambda. It is
 * read through {@link lambdaRuntime}, which checks it is there.
 */
export interface AwsLambdaRuntime {
  streamifyResponse<TEvent>(handler: StreamingHandler<TEvent>): StreamingHandler<TEvent>;
  readonly HttpResponseStream: {
    from(stream: Writable, prelude: ResponsePrelude): Writable;
  };
}

export interface StreamingHandlerOptions {
  /** @default JSON lines on stdout/stderr */
  readonly log?: Log;
  /** Milliseconds since the epoch, to turn the remaining time into a deadline. @default Date.now */
  readonly clock?: () => number;
}

/** Header names that belong to one connection (RFC 9110 §7.6.1) or to the framing. */
const CONNECTION_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // The function URL frames the response itself; a length would be wrong for a stream.
  'content-length',
]);

const INTERNAL_ERROR = {
  status: 500,
  headers: JSON_HEADERS,
  body: errorBody('internal', 'internal error'),
} as const;

function isRuntime(value: unknown): value is AwsLambdaRuntime {
  if (typeof value !== 'object' || value === null) return false;
  if (!('streamifyResponse' in value) || typeof value.streamifyResponse !== 'function') {
    return false;
  }
  if (!('HttpResponseStream' in value)) return false;
  const responseStream = value.HttpResponseStream;
  return (
    (typeof responseStream === 'function' || typeof responseStream === 'object') &&
    responseStream !== null &&
    'from' in responseStream &&
    typeof responseStream.from === 'function'
  );
}

/** The `awslambda` global, when running inside the Lambda Node.js runtime (or a shim). */
export function lambdaRuntime(): AwsLambdaRuntime | undefined {
  const scope: { readonly awslambda?: unknown } = globalThis;
  return isRuntime(scope.awslambda) ? scope.awslambda : undefined;
}

/**
 * `awslambda.streamifyResponse(handler)` inside Lambda; the handler itself elsewhere, so
 * that an entry module can be imported by tests and tools without the runtime.
 */
export function streamify<TEvent>(handler: StreamingHandler<TEvent>): StreamingHandler<TEvent> {
  return lambdaRuntime()?.streamifyResponse(handler) ?? handler;
}

/**
 * Turns a function URL event (payload format 2.0) into the routes' request.
 * Header names are lower-cased (function URLs already do; other sources may not), and
 * the cookies, which format 2.0 moves out of `headers`, are joined back into `cookie`.
 * `rawQueryString` is parsed rather than `queryStringParameters`, which joins repeated
 * parameters (`channel=a&channel=b`) with commas.
 */
export function toHttpRequest(event: LambdaFunctionURLEvent, deadline: number): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const previous = headers[key];
    headers[key] = previous === undefined ? value : `${previous},${value}`;
  }
  if (event.cookies !== undefined && event.cookies.length > 0 && headers.cookie === undefined) {
    headers.cookie = event.cookies.join('; ');
  }
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath === '' ? '/' : event.rawPath,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers,
    deadline,
  };
}

/** Response headers without the hop-by-hop ones, which only the service may set. */
export function preludeHeaders(headers: HttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!CONNECTION_HEADERS.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

/**
 * The function URL handler: builds the request (deadline = now + the invocation's
 * remaining time), asks the router, and sends what it answers.
 *
 * - `json` / `empty`: prelude with the router's status and headers, the body, end.
 * - `stream`: prelude 200, then the session writes chunk by chunk; a write that meets a
 *   full buffer waits for `drain`. The stream is ended when the session ends itself; when
 *   it ends `stalled` (a write not drained by its stop time) it is also destroyed.
 * - The router throws, or the session fails before its first byte: a 500 JSON error
 *   (`{"error":{"code":"internal",…}}`); the real error is only logged.
 * - The session fails after its first byte: status and headers are gone, so the error is
 *   logged and rethrown, and the stream is left open for the runtime, which ends it with
 *   its error trailers. The client sees a cut stream and resumes with `Last-Event-ID`.
 *
 * It starts no timer of its own; the session's timers belong to its feed.
 * @throws Error when called outside the Lambda runtime without a shim of `awslambda`.
 */
export function createStreamingHandler(
  router: (request: HttpRequest) => Promise<HttpResponse>,
  options: StreamingHandlerOptions = {},
): StreamingHandler {
  const log = options.log ?? consoleLog;
  const clock = options.clock ?? (() => Date.now());

  return async (event, responseStream, context) => {
    const runtime = lambdaRuntime();
    if (runtime === undefined) {
      throw new Error(
        'awslambda.HttpResponseStream is missing: this handler runs in the Lambda Node.js runtime',
      );
    }
    const started = clock();
    const request = toHttpRequest(event, started + context.getRemainingTimeInMillis());
    const fields = requestLogFields(request, context.awsRequestId);

    let response: HttpResponse;
    try {
      response = await router(request);
    } catch (error) {
      log.error('request failed', { ...fields, error: describeError(error, { stack: true }) });
      sendWhole(runtime, responseStream, INTERNAL_ERROR);
      return;
    }

    if (response.kind !== 'stream') {
      sendWhole(runtime, responseStream, {
        status: response.status,
        headers: response.headers,
        body: response.kind === 'json' ? response.body : undefined,
      });
      log.info('request served', { ...fields, status: response.status });
      return;
    }

    log.info('stream started', fields);
    const stream = runtime.HttpResponseStream.from(responseStream, {
      statusCode: response.status,
      headers: preludeHeaders(response.headers),
    });
    // Lambda never reports a client leaving; this only stops a session whose stream
    // broke on our side, instead of letting it write into a dead stream.
    const controller = new AbortController();
    const abort = () => controller.abort();
    stream.once('close', abort);
    stream.once('error', abort);

    let wrote = false;
    const write = async (chunk: string): Promise<void> => {
      if (chunk === '') return;
      if (stream.destroyed || stream.writableEnded) throw new Error('response stream is closed');
      wrote = true;
      if (!stream.write(Buffer.from(chunk, 'utf8'))) await drained(stream);
    };

    let handOver = false;
    try {
      const summary: StreamSummary = await response.run(write, controller.signal);
      if (summary.reason === 'stalled') {
        // The client stopped reading: an orderly end would wait behind the queued bytes
        // and keep the invocation billed until its timeout, so the stream is ended and
        // at once destroyed (queued bytes dropped). The runtime settles the invocation
        // as soon as this handler does; it may record it as failed, as the body was cut.
        stream.end();
        stream.destroy();
      }
      log.info('stream ended', {
        ...fields,
        status: response.status,
        ...summary,
        durationMs: clock() - started,
      });
    } catch (error) {
      if (!wrote) {
        // Nothing is on the wire yet, so the status can still say what happened.
        log.error('stream failed before its first byte', {
          ...fields,
          error: describeError(error, { stack: true }),
        });
        handOver = true;
        sendWhole(runtime, responseStream, INTERNAL_ERROR);
        return;
      }
      log.error('stream failed', {
        ...fields,
        durationMs: clock() - started,
        error: describeError(error, { stack: true }),
      });
      handOver = true;
      throw error;
    } finally {
      stream.off('close', abort);
      stream.off('error', abort);
      if (!handOver && !stream.writableEnded && !stream.destroyed) {
        // A session that wrote nothing still owes the client its status and headers.
        if (!wrote) stream.write('');
        stream.end();
      }
    }
  };
}

/** Sends a whole response: prelude, body through `write()` (see the module comment), end. */
function sendWhole(
  runtime: AwsLambdaRuntime,
  responseStream: Writable,
  response: { readonly status: number; readonly headers: HttpHeaders; readonly body: unknown },
): void {
  const stream = runtime.HttpResponseStream.from(responseStream, {
    statusCode: response.status,
    headers: preludeHeaders(response.headers),
  });
  stream.write(response.body === undefined ? '' : JSON.stringify(response.body));
  stream.end();
}

/** Resolves on `drain`; rejects if the stream fails or closes first (it never would drain). */
function drained(stream: Writable): Promise<void> {
  if (stream.destroyed) return Promise.reject(new Error('response stream is closed'));
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = () => settle();
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(new Error('response stream closed while waiting for drain'));
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** What a log line says about a request: never the query string or headers (tokens). */
const consoleLog: Log = {
  info: (message, fields) => console.log(JSON.stringify({ level: 'INFO', message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: 'ERROR', message, ...fields })),
};
