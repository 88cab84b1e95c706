/**
 * Binds the shared routes ({@link createRouter}) to Node's `http` server, for the local
 * stack. Unlike Lambda, a Node server learns when a client goes away: the `close` event
 * of the response (or of its socket) aborts the stream session at once, so an abandoned
 * connection costs nothing beyond that moment.
 *
 * - JSON and empty responses are written in one go, with a `content-length`.
 * - A stream sends its status and headers first (`flushHeaders`, so the client's
 *   EventSource opens before the first event), then writes each chunk as the session
 *   produces it, waiting for `drain` when the socket's buffer is full (back-pressure:
 *   a slow client slows its own session, and nothing queues without bound). A client
 *   that has not taken a write by the stream's stop time has its connection destroyed
 *   (the session's `stalled`), so not reading cannot hold a stream past its stop time.
 * - A request Node's own parser refuses (bad request line, oversized or invalid headers)
 *   never reaches the routes: {@link answerClientError} answers it with the same JSON
 *   error shape, then closes the connection.
 * - A router failure is a 500 with the contract's JSON error body; a session failure
 *   after the headers destroys the connection, which the client sees as a network error
 *   and answers by reconnecting with its last id.
 *
 * @see ../functions/http/router.ts
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionLimits } from '../../config/connection-limits.js';
import type { Log } from '../../core/log.js';
import {
  errorBody,
  type HttpHeaders,
  type HttpRequest,
  type HttpResponse,
  JSON_HEADERS,
} from '../../http/http-types.js';
import { requestLogFields } from '../../http/request-log-fields.js';

/** The routes, as `createRouter` returns them. */
export type Router = (request: HttpRequest) => Promise<HttpResponse>;

export interface RequestListenerOptions {
  /**
   * Told about a router failure (answered with 500) or a stream that failed after its
   * headers (connection destroyed). @default a `console.error` line
   */
  readonly onError?: (error: unknown, request: HttpRequest) => void;
  /**
   * How long the host lets one request run (a Web Function revision's timeout): each
   * request gets `deadline` = its arrival + this, so a stream ends itself before the
   * host cuts it. @default no deadline
   */
  readonly requestTimeoutMs?: number;
  /**
   * Gets a line when a stream starts and when it ends (with its summary: reason, bytes,
   * events, resets, how far behind it started). Each request gets an id of its own.
   * @default no stream lines
   */
  readonly log?: Log;
  /**
   * Told of each error answer the adapter gives itself, outside the routes: a URL no
   * parser takes (400), a router that threw (500), and, on the server, 503 when full or
   * shutting down. The routes report their own refusals (RouterDependencies.metrics).
   */
  readonly onRefused?: (status: number, code: string) => void;
}

/** A `node:http` request listener that also tells when every request it took is done. */
export interface SubscribeRequestListener extends RequestListener {
  /** Resolves once every request begun so far has finished (streams included). */
  settled(): Promise<void>;
}

const reportError = (error: unknown, request: HttpRequest): void => {
  console.error(`subscribe server: ${request.method} ${request.path} failed`, error);
};

/** Node's request as the routes see it: lower-case header names, no deadline. */
export function toHttpRequest(req: IncomingMessage): HttpRequest {
  // Only the path and query are used. An origin-form target ("/events?…") is appended to
  // a dummy origin rather than resolved against it, so "//x/events" stays a path
  // instead of becoming host "x"; an absolute-form target (from a proxy) parses as is.
  const target = req.url ?? '/';
  const url = new URL(target.startsWith('/') ? `http://localhost${target}` : target);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    query: url.searchParams,
    headers,
  };
}

/**
 * A `node:http` request listener serving the routes. Each request runs on its own; a
 * stream's session is aborted as soon as its connection closes.
 */
export function createRequestListener(
  router: Router,
  options: RequestListenerOptions = {},
): SubscribeRequestListener {
  const onError = options.onError ?? reportError;
  const { requestTimeoutMs, log } = options;
  const refused = options.onRefused ?? (() => {});
  const active = new Set<Promise<void>>();

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const deadline = requestTimeoutMs === undefined ? undefined : Date.now() + requestTimeoutMs;
    const running = serve(router, req, res, { onError, refused, log }, deadline).catch(
      (error: unknown) => {
        // Only a fault of the adapter itself (say, a header Node refuses) gets here.
        // The path without the query string, which may carry a token.
        onError(error, {
          method: req.method ?? '',
          path: (req.url ?? '').split('?', 1)[0] ?? '',
          query: new URLSearchParams(),
          headers: {},
        });
        res.destroy();
      },
    );
    active.add(running);
    void running.finally(() => active.delete(running));
  };
  return Object.assign(listener, {
    settled: async (): Promise<void> => {
      while (active.size > 0) await Promise.allSettled([...active]);
    },
  });
}

interface ServeHooks {
  readonly onError: (error: unknown, request: HttpRequest) => void;
  readonly refused: (status: number, code: string) => void;
  readonly log: Log | undefined;
}

async function serve(
  router: Router,
  req: IncomingMessage,
  res: ServerResponse,
  hooks: ServeHooks,
  deadline: number | undefined,
): Promise<void> {
  const { onError, refused, log } = hooks;
  let request: HttpRequest;
  let response: HttpResponse;
  const signal = watchConnection(req, res);
  try {
    request = { ...toHttpRequest(req), signal, deadline };
  } catch {
    // A request line Node accepted but a URL parser does not.
    refused(400, 'invalid_request');
    writeJson(res, 400, JSON_HEADERS, errorBody('invalid_request', 'malformed URL'));
    return;
  }
  try {
    response = await router(request);
  } catch (error) {
    onError(error, request);
    refused(500, 'internal');
    writeJson(res, 500, JSON_HEADERS, errorBody('internal', 'internal error'));
    return;
  }
  if (response.kind === 'json') {
    writeJson(res, response.status, response.headers, response.body);
    return;
  }
  if (response.kind === 'empty') {
    if (!res.destroyed) {
      res.writeHead(response.status, response.headers);
      res.end();
    }
    return;
  }
  await stream(res, response, request, onError, log);
}

/** A 503 with `Retry-After` and `connection: close`, in the contract's JSON error shape. */
function refuse(
  res: ServerResponse,
  retryAfterSeconds: number,
  code: string,
  message: string,
): void {
  writeJson(
    res,
    503,
    { ...JSON_HEADERS, 'retry-after': String(retryAfterSeconds), connection: 'close' },
    errorBody(code, message),
  );
}

function writeJson(res: ServerResponse, status: number, headers: HttpHeaders, body: unknown): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(text, 'utf8')) });
  res.end(text);
}

async function stream(
  res: ServerResponse,
  response: Extract<HttpResponse, { kind: 'stream' }>,
  request: HttpRequest,
  onError: (error: unknown, request: HttpRequest) => void,
  log: Log | undefined,
): Promise<void> {
  const signal = request.signal ?? new AbortController().signal;
  const started = Date.now();
  const fields = log === undefined ? {} : requestLogFields(request, randomUUID());
  log?.info('stream started', fields);
  const write = (chunk: string): Promise<void> | undefined => {
    if (signal.aborted || res.destroyed || res.writableEnded) return undefined;
    if (res.write(chunk)) return undefined;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  };

  try {
    res.writeHead(response.status, response.headers);
    res.flushHeaders();
    const summary = await response.run(write, signal);
    log?.info('stream ended', { ...fields, ...summary, durationMs: Date.now() - started });
    // A stalled client has data queued that it is not reading: `end()` would wait
    // behind it, holding the socket and its buffers for as long as the client likes.
    if (summary.reason === 'stalled') res.destroy();
    else if (!res.destroyed) res.end();
  } catch (error) {
    if (!signal.aborted) onError(error, request);
    // Headers are gone already: breaking the connection is the only way to say "failed",
    // and the client's answer (reconnect with its last id) is the right one.
    res.destroy();
  }
}

/**
 * Aborts when the client goes away: an unfinished response closes when its connection
 * does (client gone, or the server shutting down); the socket is watched too in case the
 * response was never attached. Not `req`'s own 'close': since Node 16 it also fires as
 * soon as the request body has been read, which would end every stream.
 */
function watchConnection(req: IncomingMessage, res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  const socket = req.socket;
  const abort = (): void => {
    controller.abort();
    res.off('close', abort);
    socket.off('close', abort);
  };
  res.once('close', abort);
  socket.once('close', abort);
  if (res.destroyed || socket.destroyed) abort();
  return controller.signal;
}

/** What Node's parser errors mean to a client, as `[status, code, message]`. */
function parserRefusal(error: Error): readonly [number, string, string] {
  const code = 'code' in error ? error.code : undefined;
  if (code === 'HPE_HEADER_OVERFLOW') {
    return [431, 'headers_too_large', 'request headers are too large'];
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'request_timeout', 'request timed out'];
  return [400, 'invalid_request', 'malformed HTTP request'];
}

/** Whether a response already began on this socket (Node keeps it as `_httpMessage`). */
function responseStarted(socket: Duplex): boolean {
  const message: unknown = Reflect.get(socket, '_httpMessage');
  return (
    typeof message === 'object' && message !== null && Reflect.get(message, 'headersSent') === true
  );
}

/**
 * A `clientError` listener: answers what Node's HTTP parser refused with the contract's
 * JSON error (431 for oversized headers, 408 for a request that timed out, else 400) and
 * `connection: close`, then destroys the socket. Without it Node answers a bare 400 with
 * no body, which clients cannot tell from a proxy's page. Nothing is written when the
 * peer reset the connection, or when a response already began on the socket: bytes in
 * the middle of it would corrupt what the client reads.
 */
export function answerClientError(error: Error, socket: Duplex): void {
  const reset = 'code' in error && error.code === 'ECONNRESET';
  if (reset || !socket.writable || responseStarted(socket)) {
    socket.destroy();
    return;
  }
  const [status, code, message] = parserRefusal(error);
  const body = JSON.stringify(errorBody(code, message));
  const headers: HttpHeaders = {
    ...JSON_HEADERS,
    'content-length': String(Buffer.byteLength(body, 'utf8')),
    connection: 'close',
  };
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  // `end()` then `destroy()` once flushed: destroying at once could drop the answer.
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}

export interface SubscribeServerOptions {
  readonly router: Router;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  readonly onError?: (error: unknown, request: HttpRequest) => void;
  /** Listeners for other exact paths on the same port (the local stack's `/sns`, `/`). */
  readonly handlers?: Readonly<Record<string, RequestListener>>;
  /** See {@link RequestListenerOptions.requestTimeoutMs}. @default no deadline */
  readonly requestTimeoutMs?: number;
  /**
   * Connections served at once (`serve`) and held at most (`refuse`): a request on a
   * connection beyond `serve` gets 503 with `Retry-After`, a connection beyond `refuse`
   * is dropped by Node at once (connection-limits.ts). @default no limit
   */
  readonly connectionLimits?: ConnectionLimits;
  /** Told of a server-level failure it survives, such as `accept` failing with EMFILE. */
  readonly onServerError?: (error: Error) => void;
  /** See {@link RequestListenerOptions.log}. */
  readonly log?: Log;
  /** See {@link RequestListenerOptions.onRefused}; here also the 503 answers. */
  readonly onRefused?: (status: number, code: string) => void;
}

/** Seconds a client turned away for capacity is asked to wait (`Retry-After`). */
export const OVER_CAPACITY_RETRY_AFTER_SECONDS = 2;

export interface SubscribeServer {
  /** Base URL, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  readonly server: Server;
  /** Client connections open now. */
  connections(): number;
  /**
   * Stops listening, ends every open connection (streams included) at once, and
   * resolves when every request in progress has finished.
   */
  close(): Promise<void>;
  /**
   * The orderly way out: stops accepting connections, answers requests that still come
   * on open ones with 503 (`shutting_down`), waits up to `graceMs` for the requests in
   * progress to end (streams end themselves once the router's `shutdown` signal has
   * aborted, which the caller does first), then closes every connection left.
   */
  drain(graceMs: number): Promise<void>;
}

/** Starts a `node:http` server serving the routes; resolves once it is listening. */
export async function startSubscribeServer(
  options: SubscribeServerOptions,
): Promise<SubscribeServer> {
  const listener = createRequestListener(options.router, {
    ...(options.onError !== undefined && { onError: options.onError }),
    ...(options.requestTimeoutMs !== undefined && { requestTimeoutMs: options.requestTimeoutMs }),
    ...(options.log !== undefined && { log: options.log }),
    ...(options.onRefused !== undefined && { onRefused: options.onRefused }),
  });
  const refused = options.onRefused ?? (() => {});
  const handlers = options.handlers ?? {};
  const limits = options.connectionLimits;
  let open = 0;
  let draining = false;
  const server = createServer((req, res) => {
    if (draining) {
      refused(503, 'shutting_down');
      refuse(res, 1, 'shutting_down', 'this server is shutting down; connect again');
      return;
    }
    if (limits !== undefined && open > limits.serve) {
      refused(503, 'over_capacity');
      refuse(
        res,
        OVER_CAPACITY_RETRY_AFTER_SECONDS,
        'over_capacity',
        `this server holds its most connections (${limits.serve}); retry in ${OVER_CAPACITY_RETRY_AFTER_SECONDS} s`,
      );
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const handler = Object.hasOwn(handlers, path) ? handlers[path] : undefined;
    if (handler !== undefined) handler(req, res);
    else listener(req, res);
  });
  server.on('connection', (socket) => {
    open += 1;
    socket.once('close', () => {
      open -= 1;
    });
  });
  // Beyond it Node destroys each new connection at once: no descriptor is kept for it.
  if (limits !== undefined) server.maxConnections = limits.refuse;
  server.on('clientError', answerClientError);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Once listening, an 'error' is a failed accept (EMFILE when descriptors run out):
  // unhandled it would end the process and every stream with it; the server goes on.
  server.on(
    'error',
    options.onServerError ?? ((error) => console.error('subscribe server:', error)),
  );
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  const serverClosed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  return {
    url: `http://${urlHost}:${port}`,
    server,
    connections: () => open,
    drain: async (graceMs) => {
      draining = true;
      server.close();
      server.closeIdleConnections();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([listener.settled(), grace]);
      // Streams that ended are idle connections now; their last bytes are flushed first.
      server.closeIdleConnections();
      await Promise.race([serverClosed, grace]);
      server.closeAllConnections();
      await serverClosed;
    },
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all([closed, listener.settled()]);
      })();
      return closing;
    },
  };
}
