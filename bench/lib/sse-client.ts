/**
 * A light Server-Sent Events reader for benchmarks: one `node:http` GET per connection,
 * the body fed to `eventsource-parser` (the parser the npm `eventsource` package uses).
 * It does what a browser's EventSource does on the wire (Accept header, `Last-Event-ID`
 * on reconnect, `retry:`), without the per-connection cost of `fetch` and WHATWG
 * streams, so one process can hold thousands of subscribers. It does not reconnect by
 * itself; {@link ResumingSubscriber} (soak) does.
 */
import { Agent, type ClientRequest, type IncomingMessage, request } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { nowMs } from './stats.js';

/** Shared by all bench clients: keep-alive like a browser, no cap on sockets. */
export const benchAgent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

export interface SseHandlers {
  /** Status line received (before any event). */
  readonly onOpen?: (status: number) => void;
  /** One parsed event; `at` is {@link nowMs} when its last line arrived. */
  readonly onEvent: (event: EventSourceMessage, at: number) => void;
  readonly onRetry?: (ms: number) => void;
  /** The connection ended: `end` = the server ended the response cleanly. */
  readonly onClose?: (how: 'end' | 'error', status: number | undefined) => void;
}

export class SseConnection {
  readonly #request: ClientRequest;
  #response: IncomingMessage | undefined;
  #status: number | undefined;
  #done = false;
  #silent = false;
  readonly #handlers: SseHandlers;

  constructor(url: string, headers: Record<string, string>, handlers: SseHandlers) {
    this.#handlers = handlers;
    const parser = createParser({
      onEvent: (event) => handlers.onEvent(event, nowMs()),
      onRetry: (ms) => handlers.onRetry?.(ms),
    });
    this.#request = request(url, {
      agent: benchAgent,
      headers: { accept: 'text/event-stream', 'cache-control': 'no-cache', ...headers },
    });
    this.#request.on('response', (response) => {
      this.#response = response;
      this.#status = response.statusCode;
      handlers.onOpen?.(response.statusCode ?? 0);
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (!this.#silent) parser.feed(chunk);
      });
      response.on('end', () => this.#finish('end'));
      response.on('error', () => this.#finish('error'));
      response.on('close', () => this.#finish(response.complete ? 'end' : 'error'));
    });
    this.#request.on('error', () => this.#finish('error'));
    this.#request.end();
  }

  get status(): number | undefined {
    return this.#status;
  }

  get closed(): boolean {
    return this.#done;
  }

  /** Breaks the connection the way a network failure would; `onClose('error')` follows. */
  drop(): void {
    this.#request.destroy();
    this.#response?.destroy();
  }

  /** Ends the connection without telling the handlers. */
  close(): void {
    this.#silent = true;
    this.#done = true;
    this.#request.destroy();
    this.#response?.destroy();
  }

  #finish(how: 'end' | 'error'): void {
    if (this.#done) return;
    this.#done = true;
    if (!this.#silent) this.#handlers.onClose?.(how, this.#status);
  }
}
