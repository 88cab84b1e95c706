/**
 * `tail`: subscribes to `GET /events` with the npm `eventsource` client (which reconnects
 * with `Last-Event-ID` and honours `retry:` as a browser does) and prints every event.
 *
 * - Events go to stdout, readable or as JSON lines; connection changes go to stderr.
 * - The stream ends itself every few minutes by design (DESIGN.md); the client then
 *   reconnects with its last id and loses nothing. That shows as "reconnecting" and
 *   "reconnected".
 * - An HTTP error answer ends the tail with the server's message (exit 1). The client
 *   only reports the status (`ErrorEvent.code`), so for a 4xx the same request is made
 *   once more with plain `fetch` to read the contract's JSON error. A 5xx or 429 (a
 *   throttled function URL, a deploy in progress) is retried from the last id instead.
 * - Stopping (Ctrl-C, SIGTERM: the `signal`) closes the connection, prints the last id
 *   for `--from`, and exits 0.
 */
import { type ErrorEvent, EventSource, type EventSourceInit, type FetchLike } from 'eventsource';
import { eventsUrl, type StartPoint, type TailArgs } from './args.js';
import {
  describeHttpError,
  formatHuman,
  formatJson,
  type StreamContext,
  shortId,
  toRecord,
} from './format.js';

export interface TailIo {
  /** Writes one line (the newline is added) to stdout. */
  readonly out: (line: string) => void;
  /** Writes one line to stderr. */
  readonly err: (line: string) => void;
  /** Aborted when the user asks to stop. */
  readonly signal: AbortSignal;
  readonly color: boolean;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
  /** Delay before retrying after a 5xx or 429, ms (default 3000, doubling to 30 s). */
  readonly retryDelayMs?: number;
}

/**
 * An EventSource that also hands every message to `onMessage`, whatever its type.
 * EventTarget listeners are per type, and published event names are not known in
 * advance; the client dispatches each message through `dispatchEvent`, so this is the
 * one place that sees them all.
 */
class EveryEventSource extends EventSource {
  readonly #onMessage: (event: MessageEvent) => void;

  constructor(url: URL, init: EventSourceInit, onMessage: (event: MessageEvent) => void) {
    super(url, init);
    this.#onMessage = onMessage;
  }

  override dispatchEvent(event: Event): boolean {
    if (event instanceof MessageEvent) this.#onMessage(event);
    return super.dispatchEvent(event);
  }
}

type ConnectionState = 'connecting' | 'open' | 'retrying' | 'reconnecting';

const MAX_RETRY_DELAY_MS = 30_000;

/** Runs the tail until stopped (0) or refused by the server (1). */
export function runTail(args: TailArgs, io: TailIo): Promise<number> {
  const now = io.now ?? (() => new Date());
  const fetchImpl = io.fetch ?? fetch;
  const baseRetryMs = io.retryDelayMs ?? 3000;
  const context: StreamContext = { channels: args.channels, envelope: args.envelope };
  const auth: Record<string, string> =
    args.token === undefined ? {} : { authorization: `Bearer ${args.token}` };
  const fetchWithAuth: FetchLike = (url, init) =>
    fetchImpl(url, { ...init, headers: { ...init.headers, ...auth } });

  const startUrl = eventsUrl(args);
  const shown = startUrl.href;
  const status = (text: string) => io.err(`tail: ${text}`);

  return new Promise<number>((resolve) => {
    let state: ConnectionState = 'connecting';
    let lastId: string | undefined;
    let source: EventSource | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let retries = 0;
    let done = false;

    const finish = (code: number) => {
      if (done) return;
      done = true;
      source?.close();
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      io.signal.removeEventListener('abort', onStop);
      resolve(code);
    };

    const onStop = () => {
      if (done) return;
      status(lastId === undefined ? 'stopped' : `stopped; resume with --from ${lastId}`);
      finish(0);
    };

    const onMessage = (event: MessageEvent) => {
      if (done) return;
      if (event.lastEventId !== '') lastId = event.lastEventId;
      const record = toRecord(
        {
          type: event.type,
          data: typeof event.data === 'string' ? event.data : String(event.data),
          id: event.lastEventId,
          received: now(),
        },
        context,
      );
      if (args.json) {
        io.out(formatJson(record));
        return;
      }
      if (record.type === 'open') {
        status(`subscribed to ${record.channels.join(', ')} at ${shortId(record.id)}`);
        return;
      }
      const text = formatHuman(record, { showChannel: args.envelope, color: io.color });
      if (text !== undefined) io.out(text);
    };

    const onOpen = () => {
      if (done) return;
      retries = 0;
      status(state === 'reconnecting' ? 'reconnected' : `connected to ${shown}`);
      state = 'open';
    };

    const onError = (event: ErrorEvent) => {
      if (done) return;
      const closed = source === undefined || source.readyState === EventSource.CLOSED;
      const code = event.code;
      if (closed && code !== undefined && code >= 400 && code < 500 && code !== 429) {
        void explain(code).then((message) => {
          if (done) return;
          status(message);
          finish(1);
        });
        return;
      }
      if (closed && code !== undefined && (code >= 500 || code === 429)) {
        // The client gives up on any non-200 answer; a server error is worth retrying.
        const delay = Math.min(baseRetryMs * 2 ** retries, MAX_RETRY_DELAY_MS);
        retries += 1;
        status(
          `server answered HTTP ${code}; retrying in ${delay < 1000 ? `${delay} ms` : `${Math.round(delay / 1000)} s`}`,
        );
        state = state === 'open' || state === 'reconnecting' ? 'reconnecting' : 'retrying';
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          if (!done) connect(lastId === undefined ? args.from : { kind: 'cursor', cursor: lastId });
        }, delay);
        return;
      }
      if (closed) {
        // Not an event stream (204, a wrong content type): nothing to retry.
        status(`${event.message ?? 'the connection failed'} (${shown})`);
        finish(1);
        return;
      }
      // The client reconnects by itself, with Last-Event-ID. Say so once per outage.
      const why = event.message === undefined || event.message === '' ? undefined : event.message;
      if (state === 'open') {
        status(
          why === undefined
            ? 'the server ended the stream; reconnecting'
            : `connection lost (${why}); reconnecting`,
        );
        state = 'reconnecting';
      } else if (state === 'connecting') {
        status(`cannot connect to ${shown}${why === undefined ? '' : ` (${why})`}; retrying`);
        state = 'retrying';
      }
    };

    /** Reads the server's own words for a refused subscription: the same request, plain. */
    const explain = async (code: number): Promise<string> => {
      const url = source?.url ?? shown;
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream', ...auth };
        if (lastId !== undefined) headers['last-event-id'] = lastId;
        const response = await fetchImpl(url, { headers, signal: AbortSignal.timeout(10_000) });
        const type = response.headers.get('content-type') ?? '';
        if (response.ok && type.startsWith('text/event-stream')) {
          await response.body?.cancel();
          return `HTTP ${code} (${url})`;
        }
        return describeHttpError(response.status, await response.text());
      } catch {
        return `HTTP ${code} (${url})`;
      }
    };

    const connect = (from: StartPoint) => {
      const url = eventsUrl({ ...args, from });
      source = new EveryEventSource(url, { fetch: fetchWithAuth }, onMessage);
      source.addEventListener('open', onOpen);
      source.addEventListener('error', onError);
    };

    if (io.signal.aborted) {
      finish(0);
      return;
    }
    io.signal.addEventListener('abort', onStop);
    connect(args.from);
  });
}
