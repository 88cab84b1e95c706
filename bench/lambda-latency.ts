/**
 * Append → receive latency of the function URL host, simulated the way bench/reads.ts
 * simulates its fleet: one `PollingFeed` + `runStreamSession` per stream, as each Lambda
 * invocation runs it (one poller per stream, POLL_MIN_MS → POLL_MAX_MS), all on one
 * DynamoDB client in this process. The writer is a separate `DynamoDBEventLog` on its
 * own client that tells the sessions nothing, as a writer Lambda cannot: every event
 * reaches a stream through that stream's own next poll. Each delivery is checked for
 * loss, duplication and order.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBEventLog } from '../functions/adapters/dynamodb/event-log.js';
import type { StreamSummary } from '../functions/core/stream-session.js';
import { DeliveryOrder, totalDeliveries } from './lib/delivery-order.js';
import { runLambdaSession } from './lib/lambda-session.js';
import { type Distribution, distribution, nowMs, sleep, waitUntil } from './lib/stats.js';

export interface LambdaLatencyCase {
  readonly name: string;
  readonly sessions: number;
  readonly channels: number;
  readonly events: number;
  readonly ratePerSecond: number;
}

export interface LambdaLatencyResult extends LambdaLatencyCase {
  readonly latencyMs: Distribution;
  readonly expected: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
}

const PAD = 'x'.repeat(64);
const DATA_LINE = /^data: (.*)$/m;
let run = 0;

export async function measureLambdaLatency(
  context: {
    readonly endpoint: string;
    readonly tableName: string;
    readonly writerLog: DynamoDBEventLog;
  },
  spec: LambdaLatencyCase,
): Promise<LambdaLatencyResult> {
  const runId = ++run;
  const channelOf = (i: number): string => `lambda-lat-${runId}-${i % spec.channels}`;
  const client = new DynamoDBClient({
    endpoint: context.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const log = new DynamoDBEventLog({ client, tableName: context.tableName });
  const orders = Array.from({ length: spec.sessions }, () => new DeliveryOrder());
  const latencies: number[] = [];
  const controllers: AbortController[] = [];
  const summaries: Promise<StreamSummary>[] = [];
  let opened = 0;
  for (let i = 0; i < spec.sessions; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    const channel = channelOf(i);
    const order = orders[i] as DeliveryOrder;
    summaries.push(
      runLambdaSession(log, channel, controller.signal, (chunk) => {
        const at = nowMs();
        if (chunk.includes('event: stream.open')) {
          opened += 1;
          return;
        }
        const data = DATA_LINE.exec(chunk)?.[1];
        if (data === undefined) return;
        const payload = JSON.parse(data) as { run?: number; seq?: number; t?: number };
        if (payload.run !== runId || payload.seq === undefined || payload.seq < 0) return;
        if (order.accept(channel, payload.seq) !== 'duplicate') {
          latencies.push(at - (payload.t ?? at));
        }
      }),
    );
  }
  try {
    await waitUntil(() => opened >= spec.sessions, 30_000);
    // One unmeasured second at the rate, then the measured events, one append at a time.
    const warm = spec.ratePerSecond;
    const start = nowMs();
    for (let i = 0; i < warm + spec.events; i++) {
      const wait = start + (i * 1000) / spec.ratePerSecond - nowMs();
      if (wait > 0) await sleep(wait);
      const seq = i < warm ? -1 : i - warm;
      const data = JSON.stringify({ run: runId, seq, t: nowMs(), pad: PAD });
      await context.writerLog.append(channelOf(seq < 0 ? i : seq), [
        { event: 'message', data, dedupeKey: `lambda-lat-${runId}-${i}` },
      ]);
    }
    let expected = 0;
    for (let i = 0; i < spec.sessions; i++) {
      expected += Math.floor((spec.events - 1 - (i % spec.channels)) / spec.channels) + 1;
    }
    await waitUntil(() => totalDeliveries(orders, expected).delivered >= expected, 20_000);
    await sleep(500);
    const total = totalDeliveries(orders, expected);
    return {
      ...spec,
      latencyMs: distribution(latencies),
      expected,
      delivered: total.delivered,
      lost: total.lost,
      duplicates: total.duplicates,
      outOfOrder: total.outOfOrder,
    };
  } finally {
    for (const controller of controllers) controller.abort();
    await Promise.allSettled(summaries);
    client.destroy();
  }
}
