/**
 * A stand-in for what the Lambda Node.js runtime provides to a streaming handler: the
 * `awslambda` global (`streamifyResponse`, `HttpResponseStream.from`) and the response
 * stream. It copies the behaviour of the runtime interface client
 * (aws-lambda-nodejs-runtime-interface-client, `src/stream/http-response-stream.ts`,
 * `src/stream/response-stream.ts`, `src/runtime/streaming-invoke-processor.ts`):
 *
 * - `HttpResponseStream.from(stream, prelude)` returns the same stream, sets its content
 *   type to `application/vnd.awslambda.http-integration-response`, and hooks the first
 *   `write()` to send `JSON.stringify(prelude)` and 8 NUL bytes before the body. Only
 *   `write()` runs the hook: `end(chunk)` or a bare `end()` skip it, as in the runtime.
 * - The content type cannot change after the first write.
 * - When the handler rejects, the runtime adds the error trailers and ends the stream;
 *   trailers added after the stream ended are lost (Node sends them with the last chunk).
 * - When the handler resolves, the stream must have been ended.
 *
 * Importing this module installs the global (imports run in order, so import it before
 * an entry module that calls `streamify` at load time).
 */
import { Writable } from 'node:stream';
import type {
  AwsLambdaRuntime,
  ResponsePrelude,
  StreamingHandler,
} from '../../functions/adapters/lambda/http-adapter.js';

export const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
export const PRELUDE_DELIMITER = Buffer.alloc(8);
export const TRAILER_ERROR_TYPE = 'Lambda-Runtime-Function-Error-Type';
export const TRAILER_ERROR_BODY = 'Lambda-Runtime-Function-Error-Body';

export interface RecordedChunk {
  readonly bytes: Buffer;
  /** `Date.now()` (fake under fake timers) when the chunk reached the wire. */
  readonly at: number;
}

export interface BodyChunk {
  readonly text: string;
  readonly at: number;
}

type WriteCallback = (error: Error | null | undefined) => void;

/**
 * The response stream a test hands to a handler: records every chunk with its arrival
 * time, the prelude, trailers and the end, and can hold writes back to make the
 * handler meet back-pressure.
 */
export class RecordingResponseStream extends Writable {
  readonly chunks: RecordedChunk[] = [];
  /** The prelude last given to `HttpResponseStream.from`. */
  prelude: ResponsePrelude | undefined;
  contentType = 'application/octet-stream';
  /** Trailers that made it onto the wire (added before the end). */
  trailers: Record<string, string> | undefined;
  /** Trailers added after the stream had ended, which Node never sends. */
  droppedTrailers: Record<string, string> | undefined;
  /** When `_final` ran: every write was acknowledged and the stream was ended. */
  endedAt: number | undefined;
  /** Set by `HttpResponseStream.from`; runs before the first `write()`. */
  _onBeforeFirstWrite: ((write: (chunk: string | Uint8Array) => void) => void) | undefined;
  /** How many times `write()` returned false. */
  fullWrites = 0;

  readonly #clock: () => number;
  #writeCalled = false;
  #holding = false;
  readonly #held: (() => void)[] = [];
  readonly #waiters: { predicate: () => boolean; resolve: () => void }[] = [];

  constructor(options: { highWaterMark?: number; clock?: () => number } = {}) {
    super({ highWaterMark: options.highWaterMark ?? 16 * 1024 });
    this.#clock = options.clock ?? (() => Date.now());
  }

  setContentType(contentType: string): void {
    if (this.#writeCalled) throw new Error('Cannot set content-type, too late.');
    this.contentType = contentType;
  }

  override write(
    chunk: unknown,
    encodingOrCallback?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    if (!this.#writeCalled && this._onBeforeFirstWrite !== undefined) {
      this._onBeforeFirstWrite((c) => {
        super.write(c);
      });
    }
    this.#writeCalled = true;
    const ok =
      typeof encodingOrCallback === 'function'
        ? super.write(chunk, encodingOrCallback)
        : super.write(chunk, encodingOrCallback ?? 'utf8', callback);
    if (!ok) this.fullWrites += 1;
    return ok;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.chunks.push({ bytes: Buffer.from(chunk), at: this.#clock() });
    this.#notify();
    if (this.#holding) this.#held.push(() => callback(null));
    else callback(null);
  }

  override _final(callback: WriteCallback): void {
    this.endedAt = this.#clock();
    this.#notify();
    callback(null);
  }

  /** Stops acknowledging writes: the buffer fills and `write()` returns false. */
  hold(): void {
    this.#holding = true;
  }

  /** Acknowledges the held writes and every later one; `drain` follows. */
  release(): void {
    this.#holding = false;
    for (const ack of this.#held.splice(0)) ack();
  }

  /** Like Node's `OutgoingMessage.addTrailers`: lost once the stream has ended. */
  addTrailers(trailers: Record<string, string>): void {
    if (this.writableEnded) this.droppedTrailers = trailers;
    else this.trailers = trailers;
  }

  /** What the runtime does when the handler rejects (`failResponseStream`). */
  async fail(error: unknown): Promise<void> {
    const errorType = error instanceof Error ? error.name : 'Error';
    const errorMessage = error instanceof Error ? error.message : String(error);
    this.addTrailers({
      [TRAILER_ERROR_TYPE]: errorType,
      [TRAILER_ERROR_BODY]: Buffer.from(JSON.stringify({ errorType, errorMessage })).toString(
        'base64',
      ),
    });
    if (!this.writableEnded && !this.destroyed) {
      await new Promise<void>((resolve) => this.end(() => resolve()));
    }
  }

  /** Everything on the wire, prelude included. */
  wire(): Buffer {
    return Buffer.concat(this.chunks.map((c) => c.bytes));
  }

  /** The prelude as sent on the wire (JSON before the 8 NUL bytes), or undefined. */
  wirePrelude(): unknown {
    const wire = this.wire();
    const end = wire.indexOf(PRELUDE_DELIMITER);
    return end === -1 ? undefined : JSON.parse(wire.subarray(0, end).toString('utf8'));
  }

  /** The body: everything after the prelude and its delimiter, as UTF-8. */
  body(): string {
    const wire = this.wire();
    const end = wire.indexOf(PRELUDE_DELIMITER);
    if (end === -1) throw new Error('no prelude on the wire');
    return wire.subarray(end + PRELUDE_DELIMITER.length).toString('utf8');
  }

  /** The body's chunks with their arrival times (the prelude's two writes left out). */
  bodyChunks(): BodyChunk[] {
    return this.chunks.slice(2).map((c) => ({ text: c.bytes.toString('utf8'), at: c.at }));
  }

  /** Resolves once `predicate` holds after a chunk or the end arrived (no polling). */
  until(predicate: (stream: this) => boolean): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise((resolve) =>
      this.#waiters.push({ predicate: () => predicate(this), resolve }),
    );
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) {
      if (waiter.predicate()) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }
}

/** Handlers the shim's `streamifyResponse` wrapped, like the runtime's marker symbol. */
const streamified = new WeakSet<object>();

export function isStreamified(handler: object): boolean {
  return streamified.has(handler);
}

function recording(stream: Writable): RecordingResponseStream {
  if (!(stream instanceof RecordingResponseStream)) {
    throw new TypeError('the awslambda shim needs a RecordingResponseStream');
  }
  return stream;
}

export const awsLambdaShim: AwsLambdaRuntime = {
  /**
   * The runtime marks the handler and later calls it with its own stream; this wrapper
   * plays the runtime's part around the call: error trailers when the handler rejects
   * (then rethrows, so tests see it), and the check that the stream was ended.
   */
  streamifyResponse<TEvent>(handler: StreamingHandler<TEvent>): StreamingHandler<TEvent> {
    const wrapped: StreamingHandler<TEvent> = async (event, responseStream, context) => {
      try {
        await handler(event, responseStream, context);
      } catch (error) {
        await recording(responseStream).fail(error);
        throw error;
      }
      if (!responseStream.writableEnded) throw new Error('Response stream is not finished.');
    };
    streamified.add(wrapped);
    return wrapped;
  },
  HttpResponseStream: {
    from(stream: Writable, prelude: ResponsePrelude): Writable {
      const target = recording(stream);
      target.setContentType(PRELUDE_CONTENT_TYPE);
      target.prelude = prelude;
      const metadata = JSON.stringify(prelude);
      target._onBeforeFirstWrite = (write) => {
        write(metadata);
        write(new Uint8Array(PRELUDE_DELIMITER.length));
      };
      return target;
    },
  },
};

/** Installs the shim as `globalThis.awslambda`; returns a function that removes it. */
export function installAwsLambdaShim(): () => void {
  const previous: unknown = Reflect.get(globalThis, 'awslambda');
  Reflect.set(globalThis, 'awslambda', awsLambdaShim);
  return () => {
    if (previous === undefined) Reflect.deleteProperty(globalThis, 'awslambda');
    else Reflect.set(globalThis, 'awslambda', previous);
  };
}

installAwsLambdaShim();
