/**
 * A fake Lambda Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html)
 * for one execution environment, on 127.0.0.1. The runtime interface client in that
 * environment long-polls it for invocations and posts their results:
 *
 * - `GET  /2018-06-01/runtime/invocation/next`: held open until an invocation is queued,
 *   then answered with the event and the headers `Lambda-Runtime-Aws-Request-Id`,
 *   `-Deadline-Ms`, `-Invoked-Function-Arn`, `-Trace-Id`.
 * - `POST /2018-06-01/runtime/invocation/{id}/response`: buffered (one JSON body, at most
 *   6 MB, or 413) or, with `Lambda-Runtime-Function-Response-Mode: streaming`, a chunked
 *   body read as it arrives, then its trailers (`Lambda-Runtime-Function-Error-Type`,
 *   `-Error-Body` when the handler failed mid-stream). Answered 202 once the body ended.
 * - `POST /2018-06-01/runtime/invocation/{id}/error` and `POST /2018-06-01/runtime/init/error`.
 *
 * Everything that happens is recorded with its time ({@link RuntimeRecord}), so tests can
 * measure, say, how soon the runtime asks for the next invocation after a response.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

const PREFIX = '/2018-06-01/runtime';
/** Lambda's limit for a buffered response payload. */
export const MAX_BUFFERED_RESPONSE_BYTES = 6 * 1024 * 1024;

export const HEADER_RESPONSE_MODE = 'lambda-runtime-function-response-mode';
export const TRAILER_ERROR_TYPE = 'lambda-runtime-function-error-type';
export const TRAILER_ERROR_BODY = 'lambda-runtime-function-error-body';
export const HEADER_ERROR_TYPE = 'lambda-runtime-function-error-type';

/** One event on the Runtime API, in arrival order. Times are `Date.now()`. */
export type RuntimeRecord =
  | { readonly kind: 'next'; readonly at: number }
  | { readonly kind: 'delivered'; readonly id: string; readonly at: number }
  | {
      readonly kind: 'response-start';
      readonly id: string;
      readonly at: number;
      readonly mode: ResponseMode;
    }
  | { readonly kind: 'response-end'; readonly id: string; readonly at: number }
  | { readonly kind: 'invocation-error'; readonly id: string; readonly at: number }
  | { readonly kind: 'init-error'; readonly at: number; readonly errorType: string };

export type ResponseMode = 'buffered' | 'streaming';

export interface BodyChunk {
  readonly bytes: Buffer;
  /** When it arrived at the Runtime API. */
  readonly at: number;
}

/** What the function reported as its error: a header or trailer, and a JSON body. */
export interface FunctionError {
  readonly errorType: string;
  /** The decoded error body, e.g. `{ errorType, errorMessage, trace }`. */
  readonly body: unknown;
}

export interface ResponseStart {
  readonly mode: ResponseMode;
  readonly contentType: string;
  readonly headers: IncomingHttpHeaders;
  readonly at: number;
}

/** How an invocation ended, as far as the caller of the function can tell. */
export type InvocationOutcome =
  | {
      readonly kind: 'response';
      readonly mode: ResponseMode;
      readonly contentType: string;
      readonly body: Buffer;
      /** For a stream: the runtime's error trailers, when the handler failed mid-stream. */
      readonly error?: FunctionError | undefined;
      readonly trailers: Readonly<Record<string, string>>;
      readonly at: number;
    }
  | { readonly kind: 'error'; readonly error: FunctionError; readonly at: number }
  | { readonly kind: 'init-error'; readonly error: FunctionError; readonly at: number }
  | { readonly kind: 'too-large'; readonly bytes: number; readonly at: number }
  | { readonly kind: 'timeout'; readonly at: number }
  | { readonly kind: 'crashed'; readonly reason: string; readonly at: number };

type InvocationEvents = {
  start: [ResponseStart];
  chunk: [BodyChunk];
  end: [InvocationOutcome];
};

export interface InvocationInput {
  readonly event: unknown;
  /** Milliseconds the function may run; the deadline is counted from delivery. */
  readonly timeoutMs: number;
  readonly functionArn: string;
}

/**
 * One invocation: created by {@link FakeRuntimeApi.enqueue}, delivered on `/next`, and
 * ended by the function's response, its error, or the environment's death. Emits
 * `start` (response headers), `chunk` (body bytes, as they arrive) and `end`.
 */
export class Invocation extends EventEmitter<InvocationEvents> {
  readonly id = randomUUID();
  readonly traceId =
    `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)};Parent=${randomUUID().replaceAll('-', '').slice(0, 16)};Sampled=0`;
  readonly createdAt = Date.now();
  deliveredAt: number | undefined;
  deadlineMs: number | undefined;
  start: ResponseStart | undefined;
  readonly chunks: BodyChunk[] = [];
  trailers: Record<string, string> = {};
  /** When the response (or error) finished arriving. */
  endedAt: number | undefined;
  /**
   * When the environment next asked for an invocation after this one: the end of the
   * invocation as Lambda bills it.
   */
  nextRequestedAt: number | undefined;
  /** The environment was killed at the deadline (Lambda's timeout), answered or not. */
  killedAtDeadline = false;
  outcome: InvocationOutcome | undefined;
  readonly done: Promise<InvocationOutcome>;
  #resolve!: (outcome: InvocationOutcome) => void;

  constructor(readonly input: InvocationInput) {
    super();
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** The streamed or buffered body received so far. */
  body(): Buffer {
    return Buffer.concat(this.chunks.map((c) => c.bytes));
  }

  /** Ends the invocation once; later calls are ignored. */
  finish(outcome: InvocationOutcome): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    this.endedAt ??= outcome.at;
    this.emit('end', outcome);
    this.#resolve(outcome);
  }
}

type ApiEvents = {
  /** A `GET /next` arrived: whatever ran before is over. */
  next: [];
  /** An invocation went out on `/next`. */
  delivered: [Invocation];
  initError: [FunctionError];
};

/** One environment's Runtime API. */
export class FakeRuntimeApi extends EventEmitter<ApiEvents> {
  readonly records: RuntimeRecord[] = [];
  readonly invocations: Invocation[] = [];
  initError: FunctionError | undefined;
  readonly #server: Server;
  readonly #queue: Invocation[] = [];
  #waiting: ServerResponse | undefined;
  /** Delivered and not yet ended. */
  #current: Invocation | undefined;
  /** The last delivered invocation, until the next `/next` marks its billed end. */
  #lastDelivered: Invocation | undefined;
  #host: string | undefined;
  #closing: Promise<void> | undefined;

  constructor() {
    super();
    this.#server = createServer((req, res) => this.#route(req, res));
    // A stream may run for 15 minutes and `/next` waits for as long as it takes.
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 60_000;
    this.#server.keepAliveTimeout = 0;
    this.#server.timeout = 0;
  }

  /** `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`. */
  get host(): string {
    if (this.#host === undefined) throw new Error('the Runtime API is not listening');
    return this.#host;
  }

  /** True while the runtime waits on `/next` with nothing queued for it. */
  get idle(): boolean {
    return this.#waiting !== undefined && this.#queue.length === 0 && this.#current === undefined;
  }

  get current(): Invocation | undefined {
    return this.#current;
  }

  get queued(): number {
    return this.#queue.length;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.#server.address() as AddressInfo;
    this.#host = `127.0.0.1:${port}`;
    return this.#host;
  }

  /** Queues an invocation; it is delivered on the runtime's next `/next`. */
  enqueue(input: InvocationInput): Invocation {
    const invocation = new Invocation(input);
    this.invocations.push(invocation);
    this.#queue.push(invocation);
    this.#deliver();
    return invocation;
  }

  /** Ends whatever is queued or running (the environment died); closes the server. */
  async close(outcome: InvocationOutcome = { kind: 'crashed', reason: 'closed', at: Date.now() }) {
    this.failPending(outcome);
    this.#waiting?.destroy();
    this.#waiting = undefined;
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    await this.#closing;
  }

  /** Ends the running and queued invocations with `outcome`. */
  failPending(outcome: InvocationOutcome): void {
    this.#current?.finish(outcome);
    this.#current = undefined;
    for (const queued of this.#queue.splice(0)) queued.finish(outcome);
  }

  #record(record: RuntimeRecord): void {
    this.records.push(record);
  }

  #deliver(): void {
    const res = this.#waiting;
    if (res === undefined || this.#current !== undefined) return;
    const invocation = this.#queue.shift();
    if (invocation === undefined) return;
    this.#waiting = undefined;
    const now = Date.now();
    invocation.deliveredAt = now;
    invocation.deadlineMs = now + invocation.input.timeoutMs;
    this.#current = invocation;
    this.#lastDelivered = invocation;
    const body = JSON.stringify(invocation.input.event);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'lambda-runtime-aws-request-id': invocation.id,
      'lambda-runtime-deadline-ms': String(invocation.deadlineMs),
      'lambda-runtime-invoked-function-arn': invocation.input.functionArn,
      'lambda-runtime-trace-id': invocation.traceId,
    });
    res.end(body);
    this.#record({ kind: 'delivered', id: invocation.id, at: now });
    this.emit('delivered', invocation);
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${PREFIX}/invocation/next`) {
      this.#next(res);
      return;
    }
    if (req.method === 'POST' && url === `${PREFIX}/init/error`) {
      void this.#initError(req, res);
      return;
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && match !== null) {
      const id = decodeURIComponent(match[1] ?? '');
      const invocation = this.#current?.id === id ? this.#current : undefined;
      if (invocation === undefined) {
        req.resume();
        answer(res, 400, {
          errorMessage: `invocation ${id} is not the one in progress`,
          errorType: 'InvalidRequestID',
        });
        return;
      }
      if (match[2] === 'response') void this.#response(invocation, req, res);
      else void this.#error(invocation, req, res);
      return;
    }
    req.resume();
    answer(res, 404, { errorMessage: `no route ${req.method} ${url}`, errorType: 'NotFound' });
  }

  #next(res: ServerResponse): void {
    const now = Date.now();
    this.#record({ kind: 'next', at: now });
    if (this.#lastDelivered !== undefined) {
      this.#lastDelivered.nextRequestedAt ??= now;
      this.#lastDelivered = undefined;
    }
    // Asking for the next invocation ends the current one, answered or not.
    if (this.#current !== undefined) {
      this.#current.finish({ kind: 'crashed', reason: 'runtime asked for /next', at: now });
      this.#current = undefined;
    }
    this.#waiting?.destroy();
    this.#waiting = res;
    res.once('close', () => {
      if (this.#waiting === res) this.#waiting = undefined;
    });
    this.emit('next');
    this.#deliver();
  }

  async #initError(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const error = functionError(req, await readAll(req));
    this.initError = error;
    this.#record({ kind: 'init-error', at: Date.now(), errorType: error.errorType });
    answer(res, 202, { status: 'OK' });
    this.failPending({ kind: 'init-error', error, at: Date.now() });
    this.emit('initError', error);
  }

  async #error(invocation: Invocation, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readAll(req);
    const now = Date.now();
    this.#record({ kind: 'invocation-error', id: invocation.id, at: now });
    answer(res, 202, { status: 'OK' });
    this.#end(invocation, { kind: 'error', error: functionError(req, body), at: now });
  }

  async #response(
    invocation: Invocation,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const streaming = headerValue(req.headers[HEADER_RESPONSE_MODE])?.toLowerCase() === 'streaming';
    const mode: ResponseMode = streaming ? 'streaming' : 'buffered';
    const start: ResponseStart = {
      mode,
      contentType: headerValue(req.headers['content-type']) ?? 'application/octet-stream',
      headers: req.headers,
      at: Date.now(),
    };
    invocation.start = start;
    this.#record({ kind: 'response-start', id: invocation.id, at: start.at, mode });
    invocation.emit('start', start);

    let bytes = 0;
    let tooLarge = false;
    const ended = new Promise<boolean>((resolve) => {
      req.on('data', (data: Buffer) => {
        bytes += data.length;
        if (!streaming && bytes > MAX_BUFFERED_RESPONSE_BYTES) {
          tooLarge = true;
          return;
        }
        const chunk = { bytes: Buffer.from(data), at: Date.now() };
        invocation.chunks.push(chunk);
        // A buffered response reaches the caller whole, at the end.
        if (streaming) invocation.emit('chunk', chunk);
      });
      req.once('end', () => resolve(true));
      req.once('error', () => resolve(false));
      req.once('close', () => resolve(req.complete));
    });
    const complete = await ended;
    const now = Date.now();
    if (!complete) {
      this.#end(invocation, { kind: 'crashed', reason: 'response connection broke', at: now });
      return;
    }
    const trailers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.trailers)) {
      if (value !== undefined) trailers[name.toLowerCase()] = value;
    }
    invocation.trailers = trailers;
    this.#record({ kind: 'response-end', id: invocation.id, at: now });
    if (tooLarge) {
      answer(res, 413, {
        errorMessage: `response payload of ${bytes} bytes exceeds ${MAX_BUFFERED_RESPONSE_BYTES}`,
        errorType: 'RequestEntityTooLarge',
      });
      this.#end(invocation, { kind: 'too-large', bytes, at: now });
      return;
    }
    answer(res, 202, { status: 'OK' });
    const errorType = trailers[TRAILER_ERROR_TYPE];
    const errorBody = trailers[TRAILER_ERROR_BODY];
    this.#end(invocation, {
      kind: 'response',
      mode,
      contentType: start.contentType,
      body: invocation.body(),
      trailers,
      error:
        errorType === undefined
          ? undefined
          : {
              errorType,
              body:
                errorBody === undefined
                  ? undefined
                  : parseJson(Buffer.from(errorBody, 'base64').toString('utf8')),
            },
      at: now,
    });
  }

  #end(invocation: Invocation, outcome: InvocationOutcome): void {
    if (this.#current === invocation) this.#current = undefined;
    invocation.finish(outcome);
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * The error a runtime reports: the type from the `Lambda-Runtime-Function-Error-Type`
 * header, else from the body's `errorType` (the native client sends only the body).
 */
function functionError(req: IncomingMessage, text: string): FunctionError {
  const body = parseJson(text);
  const fromBody =
    typeof body === 'object' && body !== null && 'errorType' in body
      ? String(body.errorType)
      : undefined;
  return {
    errorType: headerValue(req.headers[HEADER_ERROR_TYPE]) ?? fromBody ?? 'Unknown',
    body,
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
