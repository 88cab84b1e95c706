import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmbeddedStreamMetrics } from '../../../../functions/adapters/powertools/stream-metrics.js';
import { encodeCursor } from '../../../../functions/core/cursor.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import { PollingFeed } from '../../../../functions/core/polling-feed.js';
import type { Authorizer } from '../../../../functions/http/access.js';
import type { HttpRequest } from '../../../../functions/http/http-types.js';
import { createRouter } from '../../../../functions/http/router.js';
import { DEFAULT_SUBSCRIBE_CONFIG } from '../../../../functions/http/subscribe-config.js';
import { captureEmf, metricTotal, metricValues } from '../../../support/emf.js';

function request(url: string): HttpRequest {
  const parsed = new URL(url, 'http://localhost');
  return { method: 'GET', path: parsed.pathname, query: parsed.searchParams, headers: {} };
}

/** The `time` and the moment of writing of each enveloped event a stream sent. */
function deliveries(writes: readonly { at: number; chunk: string }[]) {
  const out: { channel: string; time: number; at: number }[] = [];
  for (const { at, chunk } of writes) {
    for (const line of chunk.split('\n')) {
      if (!line.startsWith('data: {"id"')) continue;
      const envelope = JSON.parse(line.slice('data: '.length)) as { channel: string; time: string };
      out.push({ channel: envelope.channel, time: Date.parse(envelope.time), at });
    }
  }
  return out;
}

/** A router over `log` that reports to a fresh recorder; the recorder comes with it. */
function routerWithMetrics(log: MemoryEventLog, authorize?: Authorizer) {
  const metrics = new EmbeddedStreamMetrics({
    metrics: new Metrics({ namespace: 'SsePubSub', serviceName: 'sse-pubsub-stream' }),
  });
  const route = createRouter({
    config: DEFAULT_SUBSCRIBE_CONFIG,
    feed: () => new PollingFeed(log, { minMs: 50, maxMs: 200 }),
    clock: Date.now,
    random: () => 0,
    ...(authorize !== undefined && { authorize }),
    metrics,
  });
  return { route, metrics };
}

describe('Function: createRouter with embedded stream metrics', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports a stream session: opened, delivered with its lag, reset, ended at the token, and a refusal', async () => {
    // Prepare: channel a has a backlog of 2, b has 1 event and the cursor is past it
    const log = new MemoryEventLog();
    const { route, metrics } = routerWithMetrics(log, async () => ({
      notAfter: Date.now() + 5_000,
    }));
    const publish = (channel: string, data: string) =>
      log.append(channel, [{ event: 'message', data, dedupeKey: data }]);
    await publish('a', 'old-1');
    await publish('a', 'old-2');
    await publish('b', 'b-1');
    vi.advanceTimersByTime(60_000);
    const cursor = encodeCursor(
      new Map([
        ['a', 0],
        ['b', 99],
      ]),
    );

    // Act: a refused request, then one stream that takes 3 live events
    const refused = await route(request('/events'));
    const response = await route(
      request(`/events?channel=a&channel=b&envelope=1&lastEventId=${cursor}`),
    );
    if (response.kind !== 'stream') throw new Error('expected a stream');
    const writes: { at: number; chunk: string }[] = [];
    const done = response.run(
      (chunk) => void writes.push({ at: Date.now(), chunk }),
      new AbortController().signal,
    );
    for (const [wait, data] of [
      [300, 'live-1'],
      [730, 'live-2'],
      [1_210, 'live-3'],
    ] as const) {
      await vi.advanceTimersByTimeAsync(wait);
      await publish('a', data);
    }
    await vi.advanceTimersByTimeAsync(10_000);
    const summary = await done;
    const records = await captureEmf(() => metrics.flush());

    // Assess
    expect(refused.kind === 'json' && refused.status).toBe(400);
    expect(summary).toMatchObject({ reason: 'token', events: 5, resets: 1 });
    const sent = deliveries(writes);
    expect(sent).toHaveLength(5);
    // Lag only for the events appended while the stream was open: write time − append time.
    const live = sent.slice(2);
    expect(live.every((d) => d.at - d.time > 0)).toBe(true);
    expect(metricValues(records, 'DeliveryLag')).toEqual(live.map((d) => d.at - d.time));
    expect(metricTotal(records, 'StreamsOpened')).toBe(1);
    expect(metricTotal(records, 'EventsDelivered')).toBe(5);
    expect(metricTotal(records, 'OpenStreams')).toBe(0);
    expect(metricTotal(records, 'StreamsEnded', { Reason: 'token' })).toBe(1);
    expect(metricTotal(records, 'Resets', { Reason: 'ahead' })).toBe(1);
    expect(
      metricTotal(records, 'RequestsRefused', { Status: '400', Code: 'missing_parameter' }),
    ).toBe(1);
  });

  it('counts a stream that fails after its first byte as ended by failed', async () => {
    const log = new MemoryEventLog();
    const { route, metrics } = routerWithMetrics(log);
    const response = await route(request('/events?channel=a'));
    if (response.kind !== 'stream') throw new Error('expected a stream');
    let writes = 0;

    // The session writes `stream.open`, then waits; a heartbeat is the second write.
    const running = response.run(() => {
      writes += 1;
      if (writes > 1) throw new Error('socket gone');
    }, new AbortController().signal);
    const failed = expect(running).rejects.toThrow('socket gone');
    await vi.advanceTimersByTimeAsync(DEFAULT_SUBSCRIBE_CONFIG.heartbeatMs + 1_000);
    await failed;
    const records = await captureEmf(() => metrics.flush());

    expect(metricTotal(records, 'StreamsEnded', { Reason: 'failed' })).toBe(1);
    expect(metricTotal(records, 'OpenStreams')).toBe(0);
  });
});
