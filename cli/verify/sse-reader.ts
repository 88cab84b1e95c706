/**
 * A Server-Sent Events reader for `verify`: one `fetch` per connection, the body fed to
 * `eventsource-parser` (the parser inside the npm `eventsource` package), every event
 * and comment kept with its arrival time. It never reconnects by itself: the checks
 * drop and resume connections on purpose.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface ReceivedEvent extends EventSourceMessage {
  /** `performance.now()` when its block ended. */
  readonly at: number;
}

export interface SseConnection {
  readonly status: number;
  readonly headers: Headers;
  readonly events: ReceivedEvent[];
  /** Comment lines (heartbeats), with their arrival times. */
  readonly comments: { readonly text: string; readonly at: number }[];
  /** Whether the body has ended (by the server, or by {@link drop}). */
  readonly ended: () => boolean;
  /** Breaks the connection, as a network failure would. */
  drop(): void;
}

export async function openSse(
  url: string,
  headers: Record<string, string> = {},
  fetchImpl: typeof fetch = fetch,
): Promise<SseConnection> {
  const controller = new AbortController();
  const response = await fetchImpl(url, {
    headers: { accept: 'text/event-stream', 'cache-control': 'no-cache', ...headers },
    signal: controller.signal,
  });
  const events: ReceivedEvent[] = [];
  const comments: { text: string; at: number }[] = [];
  let ended = false;
  const parser = createParser({
    onEvent: (event) => events.push({ ...event, at: performance.now() }),
    onComment: (text) => comments.push({ text, at: performance.now() }),
  });
  const body = response.body;
  if (body === null || !response.ok) {
    ended = true;
  } else {
    void (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // dropped on purpose, or the network broke: either way the stream is over
      } finally {
        ended = true;
      }
    })();
  }
  return {
    status: response.status,
    headers: response.headers,
    events,
    comments,
    ended: () => ended,
    drop: () => controller.abort(),
  };
}

/** Resolves once `condition` holds; rejects naming `what` after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
