/**
 * Publish → receive latency and fan-out throughput, against a server in another process
 * (the local stack, the better-sse baseline, or nginx with nchan). Publishing goes
 * through the server's `POST /sns` with the publisher SDK (the real `SNSClient`);
 * receiving through raw SSE readers ({@link SseConnection}). Every payload carries its
 * publish time (taken right before the SNS call, in this process) and a sequence number.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { createPublisher, type Publisher } from '../publisher/index.js';
import { type Distribution, distribution, mapLimit, nowMs, sleep, waitUntil } from './lib/stats.js';
import {
  type BenchSubscriber,
  closeSubscribers,
  connectSubscribers,
  type OpenedBy,
} from './lib/subscribers.js';

export interface LatencyCase {
  readonly name: string;
  readonly subscribers: number;
  readonly channels: number;
  readonly events: number;
  readonly ratePerSecond: number;
}

export interface LatencyResult extends LatencyCase {
  readonly latencyMs: Distribution;
  readonly expectedDeliveries: number;
  readonly delivered: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly subscribersOpened: number;
  readonly connectMs: number;
  readonly publishFailures: number;
  /**
   * From one extra `envelope=1` subscriber on the first (up to 16) channels (product only): the
   * envelope's `time` is when the writer stored the event, which splits the latency
   * into publish → stored (SNS endpoint, outbox, writer) and stored → received (poll
   * wait, read, fan-out).
   */
  readonly breakdown?: {
    readonly publishToStoredMs: Distribution;
    readonly storedToReceivedMs: Distribution;
  };
}

export interface FanoutResult {
  readonly subscribers: number;
  readonly events: number;
  readonly delivered: number;
  readonly missing: number;
  /** From the first publish call to the last delivery. */
  readonly elapsedMs: number;
  readonly deliveriesPerSecond: number;
  /** When publishing (or storing) returned: how long ingestion took. */
  readonly publishMs: number;
  /** CPU the bench process (the clients) used during the burst, as a share of one core. */
  readonly clientCpuShare: number;
  /** CPU the server process used during the burst (DynamoDB Local not included). */
  readonly serverCpuShare: number;
}

const PAD = 'x'.repeat(64);

/** The publisher SDK on a real `SNSClient` pointed at the server's `/sns`. */
export function benchPublisher(
  url: string,
  topicArn: string,
): Publisher & { readonly close: () => void } {
  const client = new SNSClient({
    endpoint: `${url}/sns`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    maxAttempts: 1,
  });
  return Object.assign(createPublisher({ topicArn, client }), { close: () => client.destroy() });
}

interface Payload {
  readonly run: number;
  readonly seq: number;
  readonly t: number;
}

function parsePayload(data: string): Payload | undefined {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== 'object' || value === null) return undefined;
    const { run, seq, t } = value as Record<string, unknown>;
    if (typeof run !== 'number' || typeof seq !== 'number' || typeof t !== 'number') {
      return undefined;
    }
    return { run, seq, t };
  } catch {
    return undefined;
  }
}

let runCounter = 0;

/** Publishes `count` events at `rate` per second (bounded concurrency); returns failures. */
async function publishPaced(
  publisher: Publisher,
  run: number,
  count: number,
  rate: number,
  channelOf: (seq: number) => string,
): Promise<number> {
  let failures = 0;
  const start = nowMs();
  const inflight = new Set<Promise<void>>();
  for (let seq = 0; seq < count; seq++) {
    const wait = start + (seq * 1000) / rate - nowMs();
    if (wait > 0) await sleep(wait);
    while (inflight.size >= 32) await Promise.race(inflight);
    const data = JSON.stringify({ run, seq, t: nowMs(), pad: PAD });
    const call = publisher
      .publish(channelOf(seq), data)
      .then(() => {})
      .catch(() => {
        failures += 1;
      })
      .finally(() => inflight.delete(call));
    inflight.add(call);
  }
  await Promise.all(inflight);
  return failures;
}

/** A server under test: where to publish and subscribe, and what says a stream is live. */
export interface BenchTarget {
  readonly url: string;
  readonly topicArn: string;
  readonly openedBy?: OpenedBy;
}

/** One latency case: connect, warm up, publish at a steady rate, wait for every delivery. */

export async function measureLatency(
  server: BenchTarget,
  spec: LatencyCase,
  prefix: string,
  options: { readonly probe?: boolean } = {},
): Promise<LatencyResult> {
  const run = ++runCounter;
  const channel = (i: number): string => `${prefix}-${run}-${i % spec.channels}`;
  const received = Array.from({ length: spec.subscribers }, () => new Uint8Array(spec.events));
  const latencies = new Float64Array(spec.subscribers * spec.events);
  let samples = 0;
  let duplicates = 0;
  let delivered = 0;

  const onEvent = (s: BenchSubscriber, event: { data: string }, at: number): void => {
    const payload = parsePayload(event.data);
    if (payload === undefined || payload.run !== run || payload.seq < 0) return;
    const seen = received[s.index] as Uint8Array;
    if (seen[payload.seq] === 1) {
      duplicates += 1;
      return;
    }
    seen[payload.seq] = 1;
    delivered += 1;
    latencies[samples++] = at - payload.t;
  };

  const connectStart = nowMs();
  const subscribers = await connectSubscribers({
    baseUrl: server.url,
    count: spec.subscribers,
    channelsOf: (i) => [channel(i)],
    onEvent,
    openedBy: server.openedBy,
  });
  const connectMs = nowMs() - connectStart;
  const toStored: number[] = [];
  const toReceived: number[] = [];
  const probe =
    options.probe === true
      ? await connectSubscribers({
          baseUrl: server.url,
          count: 1,
          // Up to 16 channels (the most one stream may take), for enough samples.
          channelsOf: () =>
            Array.from({ length: Math.min(spec.channels, 16) }, (_, i) => channel(i)),
          extraQuery: 'envelope=1',
          onEvent: (_s, event, at) => {
            const envelope = JSON.parse(event.data) as { data: string; time: string };
            const payload = parsePayload(envelope.data);
            if (payload === undefined || payload.run !== run || payload.seq < 0) return;
            const stored = Date.parse(envelope.time);
            toStored.push(stored - payload.t);
            toReceived.push(at - stored);
          },
        })
      : [];
  const publisher = benchPublisher(server.url, server.topicArn);
  try {
    // Warm-up (not measured): a few events on every channel, then a short rest.
    const warm = Math.min(spec.channels, 20);
    await mapLimit(
      Array.from({ length: warm }, (_, i) => i),
      8,
      (i) => publisher.publish(channel(i), JSON.stringify({ run, seq: -1, t: nowMs() })),
    );
    await sleep(500);

    const publishFailures = await publishPaced(
      publisher,
      run,
      spec.events,
      spec.ratePerSecond,
      (seq) => channel(seq),
    );
    // Subscriber i gets the events of channel i % channels, i.e. seq ≡ i (mod channels).
    const expectedOf = (i: number): number =>
      Math.floor((spec.events - 1 - (i % spec.channels)) / spec.channels) + 1;
    let expectedDeliveries = 0;
    for (let i = 0; i < spec.subscribers; i++) expectedDeliveries += expectedOf(i);
    await waitUntil(() => delivered >= expectedDeliveries, 20_000);
    return {
      ...spec,
      latencyMs: distribution(latencies.subarray(0, samples)),
      expectedDeliveries,
      delivered,
      missing: expectedDeliveries - delivered,
      duplicates,
      subscribersOpened: subscribers.filter((s) => s.opened).length,
      connectMs,
      publishFailures,
      ...(options.probe === true && {
        breakdown: {
          publishToStoredMs: distribution(toStored),
          storedToReceivedMs: distribution(toReceived),
        },
      }),
    };
  } finally {
    publisher.close();
    closeSubscribers(probe);
    closeSubscribers(subscribers);
    await sleep(1_000);
  }
}

/**
 * Fan-out throughput: `subscribers` on one channel, a burst of `events` published with
 * `PublishBatch` (10 per call, 4 calls in flight), timed until the last delivery.
 */
export async function measureFanout(
  server: BenchTarget & {
    readonly stats: () => Promise<{ readonly cpu: NodeJS.CpuUsage }>;
  },
  subscriberCount: number,
  events: number,
  prefix: string,
  /**
   * Stores the burst instead of publishing it (straight into the product's event log),
   * to time the fan-out alone, without the SNS endpoint and the writer.
   */
  store?: (channel: string, data: readonly string[]) => Promise<void>,
): Promise<FanoutResult> {
  const run = ++runCounter;
  const channel = `${prefix}-${run}-fanout`;
  let delivered = 0;
  let last = 0;
  const onEvent = (_s: BenchSubscriber, event: { data: string }, at: number): void => {
    const payload = parsePayload(event.data);
    if (payload === undefined || payload.run !== run || payload.seq < 0) return;
    delivered += 1;
    last = at;
  };
  const subscribers = await connectSubscribers({
    baseUrl: server.url,
    count: subscriberCount,
    channelsOf: () => [channel],
    onEvent,
    openedBy: server.openedBy,
  });
  const publisher = benchPublisher(server.url, server.topicArn);
  try {
    await publisher.publish(channel, JSON.stringify({ run, seq: -1, t: nowMs() }));
    await sleep(500);
    const chunks = Array.from({ length: Math.ceil(events / 10) }, (_, c) => c);
    const serverCpuStart = (await server.stats()).cpu;
    const cpuStart = process.cpuUsage();
    const start = nowMs();
    if (store === undefined) {
      await mapLimit(chunks, 4, (c) =>
        publisher.publishBatch(
          Array.from({ length: Math.min(10, events - c * 10) }, (_, k) => ({
            channel,
            data: JSON.stringify({ run, seq: c * 10 + k, t: nowMs(), pad: PAD }),
          })),
        ),
      );
    } else {
      await store(
        channel,
        Array.from({ length: events }, (_, seq) =>
          JSON.stringify({ run, seq, t: nowMs(), pad: PAD }),
        ),
      );
    }
    const publishMs = nowMs() - start;
    const expected = events * subscriberCount;
    await waitUntil(() => delivered >= expected, 60_000);
    const cpu = process.cpuUsage(cpuStart);
    const serverCpu = (await server.stats()).cpu;
    const elapsedMs = last - start;
    const serverCpuMs =
      (serverCpu.user - serverCpuStart.user + serverCpu.system - serverCpuStart.system) / 1000;
    return {
      subscribers: subscriberCount,
      events,
      delivered,
      missing: expected - delivered,
      elapsedMs,
      deliveriesPerSecond: delivered / (elapsedMs / 1000),
      publishMs,
      clientCpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
      // Measured up to the stats call after the wait, so slightly more than `elapsedMs`.
      serverCpuShare: serverCpuMs / elapsedMs,
    };
  } finally {
    publisher.close();
    closeSubscribers(subscribers);
    await sleep(1_000);
  }
}
