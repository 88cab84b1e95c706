/**
 * The SSE clients people use, against the local stack, through a proxy that cuts each of
 * the first connections in the middle of an event (inside a `data:` line, as a dropped
 * mobile connection does): every event must still arrive exactly once, in order, with no
 * phantom events. `@microsoft/fetch-event-source` adopts an event's `id:` as soon as it
 * reads that line, so this holds for it only because the server writes `id:` last.
 */
import { fetchEventSource } from '@microsoft/fetch-event-source';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCuttingProxy } from '../support/cutting-proxy.js';
import { channelHolding, type LocalStack, startInteropStack } from '../support/interop-stack.js';

const EVENTS = Array.from({ length: 12 }, (_, i) => `event ${i + 1}`);
/** Connections cut mid-event before the proxy lets one through whole. */
const CUTS = 4;

/** What a client saw: the data of its `message` events, in order. */
type Client = (url: string, received: string[]) => () => void;

const clients: Record<string, Client> = {
  eventsource: (url, received) => {
    const source = new EventSource(url);
    source.onmessage = (event) => received.push(event.data);
    return () => source.close();
  },
  '@microsoft/fetch-event-source': (url, received) => {
    const controller = new AbortController();
    void fetchEventSource(url, {
      signal: controller.signal,
      openWhenHidden: true,
      onmessage: (event) => {
        if (event.event === '' || event.event === 'message') received.push(event.data);
      },
      // Reconnect at once; returning nothing would use the server's `retry:`.
      onerror: () => 10,
      // It stops for good when the server ends a stream, unless this throws.
      onclose: () => {
        throw new Error('stream ended: reconnect');
      },
    }).catch(() => {});
    return () => controller.abort();
  },
};

describe('Feature: popular SSE clients across connections cut mid-event', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    // fetch-event-source is written for browsers: it reaches for `window` and `document`.
    const scope = globalThis as Record<string, unknown>;
    scope.window ??= globalThis;
    scope.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };
    stack = await startInteropStack();
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it.each(Object.keys(clients))(
    '%s gets every event once, in order',
    async (name) => {
      // Prepare: the channel's events are stored before anyone connects.
      const channel = await channelHolding(stack, EVENTS);
      const proxy = await startCuttingProxy(new URL(stack.url), CUTS);
      const received: string[] = [];

      // Act
      const close = clients[name]?.(
        `${proxy.url}/events?channel=${channel}&lastEventId=earliest`,
        received,
      );
      try {
        const deadline = Date.now() + 20_000;
        while (received.length < EVENTS.length && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        // A little longer, so a duplicate or phantom event would have time to show.
        await new Promise((resolve) => setTimeout(resolve, 300));
      } finally {
        close?.();
        await proxy.close();
      }

      // Assess
      expect(proxy.cuts()).toBe(CUTS);
      expect(received).toEqual(EVENTS);
    },
    40_000,
  );
});
