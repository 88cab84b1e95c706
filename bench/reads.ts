/**
 * Event-log reads per idle connection-second and per delivered event, counted inside the
 * DynamoDB SDK client ({@link countDynamoDB}), for the two ways the product serves streams:
 *
 * - the Node adapter (local stack): one `SharedFeed` whose per-channel pollers are shared
 *   by every connection; run in a child process (`bench/server.ts`, mode `node`) with real
 *   SSE connections;
 * - a simulated Lambda fleet: one `PollingFeed` + `runStreamSession` per connection, as
 *   each Lambda invocation runs it, all in this process on one counting client.
 *
 * Both read the same DynamoDB Local table; events are appended by the bench directly
 * through `DynamoDBEventLog` on a separate, uncounted client.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBEventLog } from '../functions/adapters/dynamodb/event-log.js';
import type { StreamSummary } from '../functions/core/stream-session.js';
import { DEFAULT_SUBSCRIBE_CONFIG } from '../functions/http/subscribe-config.js';
import {
  countDynamoDB,
  type DynamoDBCounts,
  diffCounts,
  readsWhere,
} from './lib/dynamodb-counter.js';
import { runLambdaSession } from './lib/lambda-session.js';
import type { ServerChild } from './lib/server-child.js';
import { nowMs, sleep, waitUntil } from './lib/stats.js';
import { closeSubscribers, connectSubscribers } from './lib/subscribers.js';

export type Fleet = 'node' | 'lambda';

export interface IdleReads {
  readonly fleet: Fleet;
  readonly subscribers: number;
  readonly channels: number;
  readonly seconds: number;
  readonly reads: number;
  readonly readsPerSecond: number;
  readonly readsPerConnectionSecond: number;
  /** AWS-billed read units (eventually consistent Query ≥ 0.5) per connection-hour. */
  readonly readUnitsPerConnectionHour: number;
  /** Reads per poll interval (POLL_MAX_MS) per poller: per channel (node) or per session (lambda). */
  readonly readsPerPollInterval: number;
  /** Reads made while connecting, per connection (the resume point's GetItem, …). */
  readonly connectReadsPerConnection: number;
  readonly connectUnitsPerConnection: number;
}

export interface ActiveReads {
  readonly fleet: Fleet;
  readonly subscribers: number;
  readonly channels: number;
  readonly ratePerSecond: number;
  readonly seconds: number;
  readonly appended: number;
  readonly delivered: number;
  readonly reads: number;
  readonly readsPerDeliveredEvent: number;
  readonly readUnitsPerDeliveredEvent: number;
}

const POLL_MAX_MS = DEFAULT_SUBSCRIBE_CONFIG.pollMaxMs;
const POLL_MIN_MS = DEFAULT_SUBSCRIBE_CONFIG.pollMinMs;
const WARM_MS = 3_000;

/** Reads of the benchmark's own channels (`<prefix>-<n>`), whoever else reads the table. */
function counts(total: DynamoDBCounts, prefix: string): { reads: number; units: number } {
  const mine = readsWhere(total, (channel) => channel.startsWith(`${prefix}-`));
  return { reads: mine.reads, units: mine.readUnits };
}

/** Appends `count` events to `channels` (round robin) at `rate` per second. */
async function appendPaced(
  log: DynamoDBEventLog,
  channels: readonly string[],
  count: number,
  rate: number,
): Promise<number> {
  const start = nowMs();
  let appended = 0;
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / rate - nowMs();
    if (wait > 0) await sleep(wait);
    const channel = channels[i % channels.length] as string;
    await log.append(channel, [
      { event: 'message', data: JSON.stringify({ seq: i, t: nowMs() }), dedupeKey: `r-${i}` },
    ]);
    appended += 1;
  }
  return appended;
}

export interface ReadsContext {
  readonly endpoint: string;
  readonly tableName: string;
  /** An uncounted log for appending. */
  readonly writerLog: DynamoDBEventLog;
}

/** Who a run serves; `pollers` is one per channel (node) or one per session (lambda). */
interface FleetShape {
  readonly fleet: Fleet;
  readonly subscribers: number;
  readonly channels: number;
  readonly pollers: number;
}

/**
 * Waits out the warm-up (so the pollers have backed off), then counts the reads of
 * `idleSeconds` without events; connect reads run from `before` to the end of connecting.
 */
async function measureIdle(
  snapshot: () => DynamoDBCounts | Promise<DynamoDBCounts>,
  before: DynamoDBCounts,
  prefix: string,
  shape: FleetShape,
  idleSeconds: number,
): Promise<IdleReads> {
  const s1 = await snapshot();
  await sleep(WARM_MS);
  const s2 = await snapshot();
  const t2 = nowMs();
  await sleep(idleSeconds * 1000);
  const s3 = await snapshot();
  const seconds = (nowMs() - t2) / 1000;
  const connect = counts(diffCounts(before, s1), prefix);
  const idle = counts(diffCounts(s2, s3), prefix);
  return {
    fleet: shape.fleet,
    subscribers: shape.subscribers,
    channels: shape.channels,
    seconds,
    reads: idle.reads,
    readsPerSecond: idle.reads / seconds,
    readsPerConnectionSecond: idle.reads / seconds / shape.subscribers,
    readUnitsPerConnectionHour: (idle.units / seconds / shape.subscribers) * 3600,
    readsPerPollInterval: (idle.reads / seconds / shape.pollers) * (POLL_MAX_MS / 1000),
    connectReadsPerConnection: connect.reads / shape.subscribers,
    connectUnitsPerConnection: connect.units / shape.subscribers,
  };
}

function activeResult(
  shape: FleetShape,
  run: {
    readonly ratePerSecond: number;
    readonly seconds: number;
    readonly appended: number;
    readonly delivered: number;
  },
  active: { readonly reads: number; readonly units: number },
): ActiveReads {
  return {
    fleet: shape.fleet,
    subscribers: shape.subscribers,
    channels: shape.channels,
    ratePerSecond: run.ratePerSecond,
    seconds: run.seconds,
    appended: run.appended,
    delivered: run.delivered,
    reads: active.reads,
    readsPerDeliveredEvent: active.reads / Math.max(1, run.delivered),
    readUnitsPerDeliveredEvent: active.units / Math.max(1, run.delivered),
  };
}

async function nodeStats(server: ServerChild): Promise<DynamoDBCounts> {
  const stats = await server.stats();
  if (stats.dynamo === undefined) throw new Error('the node-mode server reports no counts');
  return stats.dynamo;
}

/** Node adapter: `subscribers` idle over `channels`, then (optionally) events at `rate`. */
export async function nodeReads(
  server: ServerChild,
  context: ReadsContext,
  spec: {
    readonly prefix: string;
    readonly subscribers: number;
    readonly channels: number;
    readonly idleSeconds: number;
    readonly active?: { readonly rate: number; readonly seconds: number } | undefined;
  },
): Promise<{ idle: IdleReads; active: ActiveReads | undefined }> {
  const channelNames = Array.from({ length: spec.channels }, (_, i) => `${spec.prefix}-${i}`);
  let delivered = 0;
  const s0 = await nodeStats(server);
  const subscribers = await connectSubscribers({
    baseUrl: server.url,
    count: spec.subscribers,
    channelsOf: (i) => [channelNames[i % spec.channels] as string],
    onEvent: (_s, event) => {
      if (event.event === undefined || event.event === 'message') delivered += 1;
    },
  });
  const shape: FleetShape = {
    fleet: 'node',
    subscribers: spec.subscribers,
    channels: spec.channels,
    pollers: spec.channels,
  };
  try {
    const idleResult = await measureIdle(
      () => nodeStats(server),
      s0,
      spec.prefix,
      shape,
      spec.idleSeconds,
    );
    if (spec.active === undefined) return { idle: idleResult, active: undefined };

    delivered = 0;
    const s4 = await nodeStats(server);
    const t4 = nowMs();
    const count = Math.round(spec.active.rate * spec.active.seconds);
    const appended = await appendPaced(context.writerLog, channelNames, count, spec.active.rate);
    const expected = appended * (spec.subscribers / spec.channels);
    await waitUntil(() => delivered >= expected, 10_000);
    const s5 = await nodeStats(server);
    const active = counts(diffCounts(s4, s5), spec.prefix);
    return {
      idle: idleResult,
      active: activeResult(
        shape,
        { ratePerSecond: spec.active.rate, seconds: (nowMs() - t4) / 1000, appended, delivered },
        active,
      ),
    };
  } finally {
    closeSubscribers(subscribers);
    await sleep(500);
  }
}

/**
 * A simulated Lambda fleet: `sessions` stream sessions, each with its own PollingFeed
 * (default poll interval 200 ms → 1 s), exactly as functions/handlers/stream.ts builds them.
 */
export async function lambdaReads(
  context: ReadsContext,
  spec: {
    readonly prefix: string;
    readonly sessions: number;
    readonly idleSeconds: number;
    readonly active?: { readonly rate: number; readonly seconds: number } | undefined;
  },
): Promise<{ idle: IdleReads; active: ActiveReads | undefined }> {
  const client = new DynamoDBClient({
    endpoint: context.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const counter = countDynamoDB(client);
  const log = new DynamoDBEventLog({ client, tableName: context.tableName });
  const channel = `${spec.prefix}-0`;
  const controllers: AbortController[] = [];
  const summaries: Promise<StreamSummary>[] = [];
  let opened = 0;

  const s0 = counter.snapshot();
  for (let i = 0; i < spec.sessions; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    let first = true;
    summaries.push(
      runLambdaSession(log, channel, controller.signal, (chunk) => {
        if (first && chunk.includes('event: stream.open')) {
          first = false;
          opened += 1;
        }
      }),
    );
  }
  const shape: FleetShape = {
    fleet: 'lambda',
    subscribers: spec.sessions,
    channels: 1,
    pollers: spec.sessions,
  };
  try {
    await waitUntil(() => opened >= spec.sessions, 30_000);
    const idleResult = await measureIdle(
      () => counter.snapshot(),
      s0,
      spec.prefix,
      shape,
      spec.idleSeconds,
    );
    if (spec.active === undefined) return { idle: idleResult, active: undefined };

    const s4 = counter.snapshot();
    const t4 = nowMs();
    const count = Math.round(spec.active.rate * spec.active.seconds);
    const appended = await appendPaced(context.writerLog, [channel], count, spec.active.rate);
    // Long enough for every session's next poll.
    await sleep(POLL_MAX_MS + POLL_MIN_MS);
    const s5 = counter.snapshot();
    const seconds4 = (nowMs() - t4) / 1000;
    for (const controller of controllers) controller.abort();
    const delivered = (await Promise.all(summaries)).reduce((sum, s) => sum + s.events, 0);
    const active = counts(diffCounts(s4, s5), spec.prefix);
    return {
      idle: idleResult,
      active: activeResult(
        shape,
        { ratePerSecond: spec.active.rate, seconds: seconds4, appended, delivered },
        active,
      ),
    };
  } finally {
    for (const controller of controllers) controller.abort();
    await Promise.allSettled(summaries);
    client.destroy();
  }
}
