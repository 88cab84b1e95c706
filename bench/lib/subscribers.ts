/** Many benchmark subscribers at once, each an {@link SseConnection} on one server. */
import type { EventSourceMessage } from 'eventsource-parser';
import { SseConnection } from './sse-client.js';
import { waitUntil } from './stats.js';

export interface BenchSubscriber {
  readonly index: number;
  readonly channels: readonly string[];
  connection: SseConnection;
  /** Set once the stream is live (its `stream.open`, or its 200 for a server without one). */
  opened: boolean;
}

export interface ConnectOptions {
  readonly baseUrl: string;
  readonly count: number;
  /** Channels of subscriber `i`. */
  readonly channelsOf: (i: number) => readonly string[];
  /** Every event other than `stream.open`. */
  readonly onEvent: (subscriber: BenchSubscriber, event: EventSourceMessage, at: number) => void;
  /** Connections opened at once before waiting for them. @default 100 */
  readonly wave?: number;
  readonly extraQuery?: string;
  /**
   * What says a stream is live: the product's and better-sse's `stream.open` event, or
   * the response's 200 for a server that sends no such event (nchan). @default 'stream.open'
   */
  readonly openedBy?: OpenedBy;
}

export type OpenedBy = 'stream.open' | 'status';

export function eventsUrl(baseUrl: string, channels: readonly string[], extra = ''): string {
  const query = channels.map((c) => `channel=${encodeURIComponent(c)}`).join('&');
  return `${baseUrl}/events?${query}${extra === '' ? '' : `&${extra}`}`;
}

/**
 * Opens `count` subscribers in waves and resolves once each is live (see `openedBy`)
 * (or after a bounded wait; the ones that never opened are reported by `opened`).
 */
export async function connectSubscribers(options: ConnectOptions): Promise<BenchSubscriber[]> {
  const subscribers: BenchSubscriber[] = [];
  const wave = options.wave ?? 100;
  for (let start = 0; start < options.count; start += wave) {
    const batch: BenchSubscriber[] = [];
    for (let i = start; i < Math.min(options.count, start + wave); i++) {
      const channels = options.channelsOf(i);
      const subscriber: BenchSubscriber = {
        index: i,
        channels,
        opened: false,
        connection: undefined as unknown as SseConnection,
      };
      subscriber.connection = new SseConnection(
        eventsUrl(options.baseUrl, channels, options.extraQuery),
        {},
        {
          onOpen: (status) => {
            if (options.openedBy === 'status' && status === 200) subscriber.opened = true;
          },
          onEvent: (event, at) => {
            if (event.event === 'stream.open') subscriber.opened = true;
            else options.onEvent(subscriber, event, at);
          },
        },
      );
      batch.push(subscriber);
    }
    subscribers.push(...batch);
    await waitUntil(() => batch.every((s) => s.opened || s.connection.closed), 30_000);
  }
  return subscribers;
}

export function closeSubscribers(subscribers: readonly BenchSubscriber[]): void {
  for (const subscriber of subscribers) subscriber.connection.close();
}
