/**
 * The Lambda Web Function host of the subscribe routes, measured as it would run on AWS:
 * the `web-server` bundle under Node 24 in its own process (bench/lib/web-function-child.ts),
 * reading the bench's DynamoDB Local through a counting proxy (bench/lib/dynamodb-proxy.ts),
 * while the bench appends events through `DynamoDBEventLog` on its own client, as the
 * writer Lambda would on AWS. Nothing in-process tells the server that an event was
 * appended: with the change index (as the construct deploys it) it learns of it from the
 * index entry the writer adds after each append, each channel otherwise checked by the
 * safety sweep only; without it (`changeIndex: false`), from each channel's own polls.
 *
 * - idle: event-log reads, CPU time and RSS of the server process (from /proc) over a
 *   window after every connection has had its `stream.open`, per connection-hour, for
 *   several connection counts and channel spreads, and with no connection at all;
 * - latency: append → receive at the bench's SSE readers, with every delivery checked
 *   for loss, duplication and order.
 *
 * Each case gets a fresh server process, so one case's connections and heap growth do
 * not carry into the next one's memory figure.
 */
import { loadavg } from 'node:os';
import type { DynamoDBEventLog } from '../functions/adapters/dynamodb/event-log.js';
import { ENV } from '../functions/config/environment.js';
import { DeliveryOrder, totalDeliveries } from './lib/delivery-order.js';
import { type DynamoDBCounts, diffCounts, readsWhere } from './lib/dynamodb-counter.js';
import { type CountingProxy, startCountingProxy } from './lib/dynamodb-proxy.js';
import { type ProcessSample, sampleProcess } from './lib/proc-stats.js';
import { type Distribution, distribution, nowMs, round, sleep, waitUntil } from './lib/stats.js';
import { type BenchSubscriber, closeSubscribers, connectSubscribers } from './lib/subscribers.js';
import {
  buildWebFunction,
  startWebFunction,
  type WebFunctionBundle,
  type WebFunctionChild,
} from './lib/web-function-child.js';
import type { IdleReads } from './reads.js';

/** Load average (1, 5, 15 min) when a figure was taken: the machine is shared. */
type Load = readonly number[];

export interface WebFunctionIdle {
  readonly name: string;
  readonly connections: number;
  readonly channels: number;
  /** Whether the server read the change index; older runs lack it (they had it on). */
  readonly changeIndex?: boolean;
  /** Connections that had their `stream.open` before the window. */
  readonly opened: number;
  readonly seconds: number;
  /** Event-log reads of the case's channels in the window: Query, GetItem, BatchGetItem. */
  readonly queries: number;
  readonly getItems: number;
  /** Of the Queries, those of the change index (`#changes/…`); older runs lack it. */
  readonly indexQueries?: number;
  /** The safety sweep's BatchGetItems (one per 100 channels); older runs lack it. */
  readonly batchGets?: number;
  readonly readsPerConnectionHour: number;
  /** At AWS's minimum per request: 0.5 eventually consistent, 1 strongly consistent. */
  readonly readUnitsPerConnectionHour: number;
  readonly readsPerChannelSecond: number;
  /** Reads from the first connect to the last `stream.open`, per connection. */
  readonly connectReadsPerConnection: number;
  readonly cpuSeconds: number;
  readonly cpuSecondsPerConnectionHour: number;
  /** The server's CPU as a share of one core over the window. */
  readonly cpuShare: number;
  /** VmRSS before the first connection and at the end of the window. */
  readonly rssBeforeBytes: number;
  readonly rssBytes: number;
  /** RSS (GiB, Lambda's "GB") × 3,600 s ÷ connections. */
  readonly rssGbSecondsPerConnectionHour: number;
  /** (RSS at the end − RSS before connecting) ÷ connections. */
  readonly rssPerConnectionBytes: number;
  readonly load: Load;
}

export interface WebFunctionBaseline {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly cpuSecondsPerHour: number;
  readonly rssBytes: number;
  readonly load: Load;
}

export interface WebFunctionLatency {
  readonly name: string;
  readonly subscribers: number;
  readonly channels: number;
  /** Whether the server read the change index; older runs lack it (they had it on). */
  readonly changeIndex?: boolean;
  readonly events: number;
  readonly ratePerSecond: number;
  readonly opened: number;
  readonly latencyMs: Distribution;
  readonly expected: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly load: Load;
}

export interface WebFunctionResult {
  /** The Node version the server ran on (the Web Function runtime's major). */
  readonly node: string;
  readonly warmSeconds: number;
  readonly baseline: WebFunctionBaseline;
  readonly idle: readonly WebFunctionIdle[];
  /** The simulated Lambda fleet of the same run (bench/reads.ts `lambdaReads`). */
  readonly lambdaFleet: IdleReads;
  /** Reads per idle connection-hour, Web Function (first indexed one-channel case) ÷ Lambda fleet. */
  readonly readRatio: number;
  readonly latency: readonly WebFunctionLatency[];
  readonly loadAtStart: Load;
  readonly loadAtEnd: Load;
  readonly durationSeconds: number;
}

export interface WebFunctionIdleCase {
  readonly name: string;
  readonly connections: number;
  readonly channels: number;
  /** Serve with the change index (as deployed) or with each channel's own polls. @default true */
  readonly changeIndex?: boolean;
  /** This case's idle window, when it must differ from the spec's `idleSeconds`. */
  readonly seconds?: number;
}

export interface WebFunctionLatencyCase {
  readonly name: string;
  readonly subscribers: number;
  readonly channels: number;
  readonly events: number;
  readonly ratePerSecond: number;
  /** @default true */
  readonly changeIndex?: boolean;
}

export interface WebFunctionSpec {
  /** The idle window of a case that names none. */
  readonly idleSeconds: number;
  readonly baselineSeconds: number;
  readonly idle: readonly WebFunctionIdleCase[];
  readonly latency: readonly WebFunctionLatencyCase[];
}

export interface WebFunctionContext {
  /** DynamoDB Local, where the proxy forwards to. */
  readonly dynamoEndpoint: string;
  readonly tableName: string;
  /** Appends on the bench's own client, straight to DynamoDB Local (not through the proxy). */
  readonly writerLog: DynamoDBEventLog;
  /** The Lambda fleet's idle reads from the same run, for the ratio. */
  readonly lambdaFleet: IdleReads;
  readonly log: (message: string) => void;
}

/** Lets the pollers back off to POLL_MAX_MS after the connects' first polls. */
const WARM_MS = 3_000;
/** The change index's partitions, `#changes/<shard>/<minute>` (`changePartition`). */
const CHANGE_PARTITION_PREFIX = '#changes/';
const HOUR = 3_600;
const GIB = 1024 ** 3;
const PAD = 'x'.repeat(64);
const currentLoad = (): Load => loadavg().map((l) => round(l, 2));

let run = 0;

/**
 * The revision's environment for a case: the default (CHANGE_INDEX_SHARDS=1) or without
 * the variable, which leaves the server on its channels' own polls.
 */
const envFor = (changeIndex: boolean): Readonly<Record<string, string | undefined>> =>
  changeIndex ? {} : { [ENV.changeIndexShards]: undefined };

/** A server process for one case, stopped (SIGTERM, as Lambda retires it) afterwards. */
async function withServer<T>(
  bundle: WebFunctionBundle,
  proxy: CountingProxy,
  options: { readonly tableName: string; readonly changeIndex: boolean },
  body: (server: WebFunctionChild) => Promise<T>,
): Promise<T> {
  const server = await startWebFunction(bundle, {
    dynamoEndpoint: proxy.endpoint,
    tableName: options.tableName,
    env: envFor(options.changeIndex),
  });
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

/** The proxy's counts of every request, of Query, of GetItem and of BatchGetItem. */
interface Counts {
  readonly all: DynamoDBCounts;
  readonly query: DynamoDBCounts;
  readonly getItem: DynamoDBCounts;
  readonly batchGet: DynamoDBCounts;
}

const countsOf = (proxy: CountingProxy): Counts => ({
  all: proxy.snapshot(),
  query: proxy.snapshot('QueryCommand'),
  getItem: proxy.snapshot('GetItemCommand'),
  batchGet: proxy.snapshot('BatchGetItemCommand'),
});

/** CPU and memory of `pid` and the proxy's counts, at the start and end of `seconds`. */
async function window(
  pid: number,
  proxy: CountingProxy,
  seconds: number,
): Promise<{ start: ProcessSample; end: ProcessSample; before: Counts; after: Counts }> {
  const before = countsOf(proxy);
  const start = sampleProcess(pid);
  await sleep(seconds * 1000);
  const end = sampleProcess(pid);
  return { start, end, before, after: countsOf(proxy) };
}

/** The server's own cost with no connection: CPU and RSS over `seconds`. */
async function measureBaseline(
  server: WebFunctionChild,
  proxy: CountingProxy,
  seconds: number,
): Promise<WebFunctionBaseline> {
  const w = await window(server.pid, proxy, seconds);
  const elapsed = (w.end.at - w.start.at) / 1000;
  const cpuSeconds = w.end.cpuSeconds - w.start.cpuSeconds;
  return {
    seconds: elapsed,
    cpuSeconds,
    cpuSecondsPerHour: (cpuSeconds / elapsed) * HOUR,
    rssBytes: w.end.rssBytes,
    load: currentLoad(),
  };
}

async function measureIdle(
  bundle: WebFunctionBundle,
  proxy: CountingProxy,
  tableName: string,
  spec: WebFunctionIdleCase,
  idleSeconds: number,
  /** Measure the server's baseline for this long before connecting (the first case only). */
  baselineSeconds?: number,
): Promise<{ idle: WebFunctionIdle; baseline: WebFunctionBaseline | undefined }> {
  const prefix = `wf-idle-${++run}`;
  const changeIndex = spec.changeIndex ?? true;
  const channelOf = (i: number): string => `${prefix}-${i % spec.channels}`;
  // Reads of this case's channels only, whatever else reads the table.
  // The change index's Queries (partitions `#changes/…`) are this server's too: each
  // case runs its own server alone, so they are counted in full and shared over its
  // connections.
  const isIndex = (partition: string): boolean => partition.startsWith(CHANGE_PARTITION_PREFIX);
  const mine = (before: DynamoDBCounts, after: DynamoDBCounts) =>
    readsWhere(
      diffCounts(before, after),
      (channel) => channel.startsWith(`${prefix}-`) || isIndex(channel),
    );
  return withServer(bundle, proxy, { tableName, changeIndex }, async (server) => {
    let baseline: WebFunctionBaseline | undefined;
    if (baselineSeconds === undefined) await sleep(1_000);
    else {
      // Past the start's own work (module init, first timers); no poller runs yet.
      await sleep(2_000);
      baseline = await measureBaseline(server, proxy, baselineSeconds);
    }
    const rssBefore = sampleProcess(server.pid).rssBytes;
    const c0 = proxy.snapshot();
    const subscribers = await connectSubscribers({
      baseUrl: server.url,
      count: spec.connections,
      channelsOf: (i) => [channelOf(i)],
      onEvent: () => {},
    });
    try {
      const c1 = proxy.snapshot();
      const opened = subscribers.filter((s) => s.opened).length;
      await sleep(WARM_MS);
      const w = await window(server.pid, proxy, idleSeconds);
      const seconds = (w.end.at - w.start.at) / 1000;
      const reads = mine(w.before.all, w.after.all);
      const cpuSeconds = w.end.cpuSeconds - w.start.cpuSeconds;
      const perConnectionHour = (value: number): number =>
        (value / seconds / spec.connections) * HOUR;
      const idle: WebFunctionIdle = {
        name: spec.name,
        connections: spec.connections,
        channels: spec.channels,
        changeIndex,
        opened,
        seconds,
        queries: mine(w.before.query, w.after.query).reads,
        indexQueries: readsWhere(diffCounts(w.before.query, w.after.query), isIndex).reads,
        getItems: mine(w.before.getItem, w.after.getItem).reads,
        batchGets: mine(w.before.batchGet, w.after.batchGet).reads,
        readsPerConnectionHour: perConnectionHour(reads.reads),
        readUnitsPerConnectionHour: perConnectionHour(reads.readUnits),
        readsPerChannelSecond: reads.reads / seconds / spec.channels,
        connectReadsPerConnection: mine(c0, c1).reads / spec.connections,
        cpuSeconds,
        cpuSecondsPerConnectionHour: perConnectionHour(cpuSeconds),
        cpuShare: cpuSeconds / seconds,
        rssBeforeBytes: rssBefore,
        rssBytes: w.end.rssBytes,
        rssGbSecondsPerConnectionHour: ((w.end.rssBytes / GIB) * HOUR) / spec.connections,
        rssPerConnectionBytes: (w.end.rssBytes - rssBefore) / spec.connections,
        load: currentLoad(),
      };
      return { idle, baseline };
    } finally {
      closeSubscribers(subscribers);
    }
  });
}

interface Payload {
  readonly run: number;
  readonly seq: number;
  /** When the bench called `append`, in {@link nowMs}. */
  readonly t: number;
}

function parsePayload(data: string): Payload | undefined {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== 'object' || value === null) return undefined;
    const { run: r, seq, t } = value as Record<string, unknown>;
    if (typeof r !== 'number' || typeof seq !== 'number' || typeof t !== 'number') return undefined;
    return { run: r, seq, t };
  } catch {
    return undefined;
  }
}

/**
 * Appends `warm` unmeasured events (`seq` -1, round robin from channel 0), then `count`
 * measured ones, event `seq` to `channelOf(seq)`, all at `rate` per second and one
 * `append` at a time: each channel's events are stored in `seq` order, which is what the
 * order check relies on. The unmeasured second puts the pollers in the regime the rate
 * keeps them in, rather than timing the first events against pollers backed off on a
 * quiet channel.
 */
async function appendPaced(
  writerLog: DynamoDBEventLog,
  runId: number,
  spec: { readonly warm: number; readonly count: number; readonly rate: number },
  channelOf: (seq: number) => string,
): Promise<void> {
  const start = nowMs();
  for (let i = 0; i < spec.warm + spec.count; i++) {
    const wait = start + (i * 1000) / spec.rate - nowMs();
    if (wait > 0) await sleep(wait);
    const seq = i < spec.warm ? -1 : i - spec.warm;
    const data = JSON.stringify({ run: runId, seq, t: nowMs(), pad: PAD });
    await writerLog.append(channelOf(seq < 0 ? i : seq), [
      { event: 'message', data, dedupeKey: `wf-${runId}-${i}` },
    ]);
  }
}

async function measureLatency(
  bundle: WebFunctionBundle,
  proxy: CountingProxy,
  context: WebFunctionContext,
  spec: WebFunctionLatencyCase,
): Promise<WebFunctionLatency> {
  const runId = ++run;
  const channelOf = (i: number): string => `wf-lat-${runId}-${i % spec.channels}`;
  const orders = Array.from({ length: spec.subscribers }, () => new DeliveryOrder());
  const latencies: number[] = [];
  const onEvent = (s: BenchSubscriber, event: { data: string }, at: number): void => {
    const payload = parsePayload(event.data);
    if (payload === undefined || payload.run !== runId || payload.seq < 0) return;
    const order = orders[s.index] as DeliveryOrder;
    if (order.accept(s.channels[0] as string, payload.seq) !== 'duplicate') {
      latencies.push(at - payload.t);
    }
  };
  const changeIndex = spec.changeIndex ?? true;
  const options = { tableName: context.tableName, changeIndex };
  return withServer(bundle, proxy, options, async (server) => {
    const subscribers = await connectSubscribers({
      baseUrl: server.url,
      count: spec.subscribers,
      channelsOf: (i) => [channelOf(i)],
      onEvent,
    });
    try {
      await appendPaced(
        context.writerLog,
        runId,
        { warm: spec.ratePerSecond, count: spec.events, rate: spec.ratePerSecond },
        channelOf,
      );
      // Subscriber i reads channel i % channels, which gets the events seq ≡ i (mod channels).
      let expected = 0;
      for (let i = 0; i < spec.subscribers; i++) {
        expected += Math.floor((spec.events - 1 - (i % spec.channels)) / spec.channels) + 1;
      }
      const received = (): number => totalDeliveries(orders, expected).delivered;
      await waitUntil(() => received() >= expected, 20_000);
      // A little longer, so that a late duplicate would be counted too.
      await sleep(500);
      const total = totalDeliveries(orders, expected);
      return {
        ...spec,
        changeIndex,
        opened: subscribers.filter((s) => s.opened).length,
        latencyMs: distribution(latencies),
        expected,
        delivered: total.delivered,
        lost: total.lost,
        duplicates: total.duplicates,
        outOfOrder: total.outOfOrder,
        load: currentLoad(),
      };
    } finally {
      closeSubscribers(subscribers);
    }
  });
}

/** The whole section: build, then each case on a fresh server behind one counting proxy. */
export async function measureWebFunction(
  context: WebFunctionContext,
  spec: WebFunctionSpec,
): Promise<WebFunctionResult> {
  const t0 = Date.now();
  const loadAtStart = currentLoad();
  const bundle = await buildWebFunction();
  const proxy = await startCountingProxy(context.dynamoEndpoint);
  const { log } = context;
  try {
    log(`web function: ${bundle.file} on Node ${bundle.nodeVersion}`);
    const idle: WebFunctionIdle[] = [];
    let baseline: WebFunctionBaseline | undefined;
    for (const [i, c] of spec.idle.entries()) {
      const measured = await measureIdle(
        bundle,
        proxy,
        context.tableName,
        c,
        c.seconds ?? spec.idleSeconds,
        i === 0 ? spec.baselineSeconds : undefined,
      );
      if (measured.baseline !== undefined) {
        baseline = measured.baseline;
        log(
          `web function, no connections: ${round(baseline.cpuSeconds, 3)} CPU-s in ${round(baseline.seconds, 1)} s = ${round(baseline.cpuSecondsPerHour, 1)} CPU-s per hour; RSS ${round(baseline.rssBytes / 2 ** 20, 1)} MiB (load ${baseline.load.join(' ')})`,
        );
      }
      const r = measured.idle;
      idle.push(r);
      log(
        `web function idle, ${r.name}: ${r.opened}/${r.connections} open; ${r.queries} Query (${r.indexQueries} of the index) + ${r.getItems} GetItem + ${r.batchGets ?? 0} BatchGetItem in ${round(r.seconds, 1)} s = ${round(r.readsPerConnectionHour, 1)} reads (${round(r.readUnitsPerConnectionHour, 1)} RCU) per connection-hour, ${round(r.readsPerChannelSecond, 2)} per channel-second; ${round(r.connectReadsPerConnection, 2)} reads per connect; CPU ${round(r.cpuSeconds, 3)} s (${round(r.cpuShare * 100, 2)}% of a core) = ${round(r.cpuSecondsPerConnectionHour, 3)} CPU-s per connection-hour; RSS ${round(r.rssBeforeBytes / 2 ** 20, 1)} → ${round(r.rssBytes / 2 ** 20, 1)} MiB (${round(r.rssPerConnectionBytes / 1024, 1)} KiB per connection) = ${round(r.rssGbSecondsPerConnectionHour, 2)} GB-s per connection-hour (load ${r.load.join(' ')})`,
      );
    }
    if (baseline === undefined) throw new Error('the Web Function section needs an idle case');
    const oneChannel = idle.find((x) => x.channels === 1 && x.changeIndex !== false);
    const lambdaPerHour = context.lambdaFleet.readsPerConnectionSecond * HOUR;
    const readRatio =
      oneChannel === undefined ? Number.NaN : oneChannel.readsPerConnectionHour / lambdaPerHour;
    log(
      `Lambda fleet (${context.lambdaFleet.subscribers} sessions): ${round(lambdaPerHour, 1)} reads per idle connection-hour; web function ÷ Lambda fleet (${oneChannel?.name ?? '?'}): ${round(readRatio, 5)} = 1/${round(1 / readRatio, 1)}`,
    );
    const latency: WebFunctionLatency[] = [];
    for (const c of spec.latency) {
      const r = await measureLatency(bundle, proxy, context, c);
      latency.push(r);
      log(
        `web function latency, ${r.name} @ ${r.ratePerSecond}/s: p50 ${round(r.latencyMs.p50)} ms, p99 ${round(r.latencyMs.p99)} ms, max ${round(r.latencyMs.max)} ms; ${r.delivered}/${r.expected} delivered, lost ${r.lost}, duplicated ${r.duplicates}, out of order ${r.outOfOrder}, ${r.opened}/${r.subscribers} open (load ${r.load.join(' ')})`,
      );
    }
    return {
      node: bundle.nodeVersion,
      warmSeconds: WARM_MS / 1000,
      baseline,
      idle,
      lambdaFleet: context.lambdaFleet,
      readRatio,
      latency,
      loadAtStart,
      loadAtEnd: currentLoad(),
      durationSeconds: Math.round((Date.now() - t0) / 1000),
    };
  } finally {
    await proxy.close();
    bundle.dispose();
  }
}
