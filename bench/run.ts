/**
 * `npm run bench` (tsx bench/run.ts [--quick] [--only web-function]): every benchmark of
 * issues 8, 15 and 16 in one run, against servers and databases it starts itself on
 * 127.0.0.1, then docs/benchmarks.md and docs/benchmarks.json. See docs/benchmarks.md for
 * what each figure is.
 *
 * Order: Lambda bundles → DynamoDB Local (append throughput, reads per connection for
 * the Node adapter and a simulated Lambda fleet, then the Lambda Web Function host beside
 * that fleet, with and without the change index) → latency and fan-out against the
 * better-sse baseline, nginx with nchan (where Debian's libnginx-mod-nchan is installed;
 * also the deployed path's cases and an idle window) and the local stack → memory per
 * idle connection. The report puts the deployed path (the writer in another process)
 * first. Every loop is bounded; the whole run takes about 13 minutes on 2 cores.
 * `--only web-function` runs the Web Function section alone (with the Lambda fleet's idle
 * case it is compared with) and writes nothing under docs/.
 */
import './lib/quiet-warnings.js';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBChangeIndex } from '../functions/adapters/dynamodb/change-index.js';
import { DynamoDBEventLog } from '../functions/adapters/dynamodb/event-log.js';
import { eventLogTableDefinition } from '../functions/adapters/dynamodb/table.js';
import { DEFAULT_SAFETY_POLL_SECONDS } from '../functions/config/change-index-config.js';
import { ENV } from '../functions/config/environment.js';
import { startDynamoDBLocal } from '../local/dynamodb-local.js';
import { ensureTable } from '../local/tables.js';
import { type AppendCase, type AppendResult, measureAppend } from './append.js';
import { type BundleResult, measureBundles } from './bundles.js';
import { type LambdaLatencyResult, measureLambdaLatency } from './lambda-latency.js';
import {
  type FanoutResult,
  type LatencyCase,
  type LatencyResult,
  measureFanout,
  measureLatency,
} from './latency.js';
import { type ServerChild, startServerChild } from './lib/server-child.js';
import { round } from './lib/stats.js';
import { type LocalSnsResult, measureLocalSns } from './local-sns.js';
import { type MemoryResult, measureMemory } from './memory.js';
import { measureNchanIdle, type NchanResult, nchanVersion } from './nchan.js';
import { findNchan, type NchanServer, startNchanServer } from './nchan-server.js';
import { type ActiveReads, type IdleReads, lambdaReads, nodeReads } from './reads.js';
import { type BenchResults, renderMarkdown, summarize } from './report/index.js';
import { webFunctionSection } from './report/sections/web-function.js';
import { checkSoakTrace, parseSoakTrace } from './soak-checker.js';
import {
  measureWebFunction,
  type WebFunctionResult,
  type WebFunctionSpec,
} from './web-function.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'docs' },
    /** A trace written by `npm run soak`: checked again and summarised in the report. */
    'soak-trace': { type: 'string' },
    /** Re-render docs/benchmarks.md from a benchmarks.json, without measuring. */
    render: { type: 'string' },
    /**
     * Run one section alone (`web-function`): its figures go to stdout and a JSON file in
     * the temporary folder, never to docs/ (a partial run must not replace a full one).
     */
    only: { type: 'string' },
  },
});
const QUICK = args.quick === true;
const BIOME = fileURLToPath(new URL('../node_modules/@biomejs/biome/bin/biome', import.meta.url));
/** The event-log table of the local stack the bench starts. */
const STACK_TABLE = 'bench-stack-events';
const scale = (full: number, quick: number): number => (QUICK ? quick : full);

const log = (message: string): void => console.log(message);

/** Sessions of the simulated Lambda fleet's idle case, the Web Function's comparison. */
const LAMBDA_IDLE_SESSIONS = scale(128, 20);
const LAMBDA_IDLE_SECONDS = scale(10, 4);

/**
 * The safety sweep's period with the change index on: the indexed per-user idle case's
 * window holds at least one full period, so the sweep's reads and CPU are inside it.
 */
const SAFETY_WINDOW_SECONDS = DEFAULT_SAFETY_POLL_SECONDS + 5;

/**
 * The Web Function section: ~5 minutes at full scale (idle windows of 30 s and one of
 * 125 s, four latency cases). Each size is served with the change index, as deployed;
 * the per-user channels also without it (each channel polling itself), for comparison.
 */
function webFunctionSpec(): WebFunctionSpec {
  const few = scale(128, 32);
  const many = scale(1_000, 200);
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const perUser = `${fmt(few)} channels`;
  return {
    // Two heartbeat periods (15 s), so each window holds the same number of heartbeats.
    idleSeconds: scale(30, 8),
    baselineSeconds: scale(8, 4),
    idle: [
      { name: `${fmt(few)} connections, 1 channel`, connections: few, channels: 1 },
      {
        name: `${fmt(few)} connections, ${perUser}`,
        connections: few,
        channels: few,
        seconds: scale(SAFETY_WINDOW_SECONDS, 8),
      },
      {
        name: `${fmt(few)} connections, ${perUser}, without the change index`,
        connections: few,
        channels: few,
        changeIndex: false,
      },
      { name: `${fmt(many)} connections, 1 channel`, connections: many, channels: 1 },
    ],
    latency: [
      {
        name: `${fmt(scale(100, 20))} subscribers, 1 channel, writer in another process`,
        subscribers: scale(100, 20),
        channels: 1,
        events: scale(250, 60),
        ratePerSecond: 25,
      },
      {
        name: `${fmt(few)} subscribers, ${perUser}, writer in another process`,
        subscribers: few,
        channels: few,
        events: scale(256, 64),
        ratePerSecond: 25,
      },
      {
        name: `${fmt(few)} subscribers, ${perUser}, writer in another process, without the change index`,
        subscribers: few,
        channels: few,
        events: scale(256, 64),
        ratePerSecond: 25,
        changeIndex: false,
      },
    ],
  };
}

/** What the construct's writer is for the Web Function host: it keeps the change index. */
function indexedWriter(client: DynamoDBClient, tableName: string): DynamoDBEventLog {
  return new DynamoDBEventLog({
    client,
    tableName,
    changes: new DynamoDBChangeIndex({ client, tableName }),
  });
}

/** `--only web-function`: DynamoDB Local, the Lambda fleet's idle reads, the section. */
async function onlyWebFunction(): Promise<void> {
  const dynamo = await startDynamoDBLocal({});
  const tableName = 'bench-events';
  try {
    await ensureTable(dynamo.client, eventLogTableDefinition(tableName));
    const writerLog = new DynamoDBEventLog({ client: dynamo.client, tableName });
    const lambdaIdle = await lambdaReads(
      { endpoint: dynamo.endpoint, tableName, writerLog },
      {
        prefix: 'reads-lambda-idle',
        sessions: LAMBDA_IDLE_SESSIONS,
        idleSeconds: LAMBDA_IDLE_SECONDS,
      },
    );
    const result = await measureWebFunction(
      {
        dynamoEndpoint: dynamo.endpoint,
        tableName,
        // The writer Lambda of a Web Function deployment records the change index.
        writerLog: indexedWriter(dynamo.client, tableName),
        lambdaFleet: lambdaIdle.idle,
        log,
      },
      webFunctionSpec(),
    );
    const file = join(tmpdir(), `sse-bench-web-function-${Date.now()}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ machine: machine(), quick: QUICK, webFunction: result }, null, 2)}\n`,
    );
    const lines: string[] = [];
    webFunctionSection((text = '') => lines.push(text), result);
    log(`\n${lines.join('\n')}`);
    log(`wrote ${file} in ${elapsed()}`);
  } finally {
    await dynamo.stop();
  }
}
const t0 = Date.now();
const elapsed = (): string => `${Math.round((Date.now() - t0) / 1000)} s`;

function machine(): BenchResults['machine'] {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    freeMemoryGiB: round(freemem() / 1024 ** 3, 1),
    node: process.version,
    os: `${platform()} ${release()}`,
    loadAverageAtStart: loadavg().map((l) => round(l, 2)),
    commit,
  };
}

function write(dir: string, results: BenchResults): void {
  const summary = summarize(results);
  mkdirSync(dir, { recursive: true });
  const json = `${dir}/benchmarks.json`;
  // Three decimals are plenty for every figure here.
  const rounded = (_key: string, value: unknown): unknown =>
    typeof value === 'number' && !Number.isInteger(value) ? round(value, 3) : value;
  writeFileSync(json, `${JSON.stringify({ ...results, summary }, rounded, 2)}\n`);
  writeFileSync(`${dir}/benchmarks.md`, renderMarkdown(results, summary));
  // Keep `npm run lint` (biome check .) clean: format the JSON the way Biome does.
  try {
    execFileSync(process.execPath, [BIOME, 'format', '--write', json], { stdio: 'ignore' });
  } catch {
    console.error(`could not format ${json} with Biome; run \`npx biome format --write ${json}\``);
  }
}

/** The latency cases every push server runs (the local stack, better-sse, nchan). */
function latencyCases(): LatencyCase[] {
  return [
    {
      name: '1 subscriber',
      subscribers: 1,
      channels: 1,
      events: scale(100, 30),
      ratePerSecond: 10,
    },
    {
      name: '100 subscribers, 1 channel',
      subscribers: 100,
      channels: 1,
      events: scale(100, 30),
      ratePerSecond: 10,
    },
    {
      name: '1,000 subscribers, 1 channel',
      subscribers: scale(1_000, 200),
      channels: 1,
      events: scale(100, 30),
      ratePerSecond: 10,
    },
    {
      name: '1,000 subscribers, 100 channels',
      subscribers: scale(1_000, 200),
      channels: 100,
      events: scale(200, 50),
      ratePerSecond: 20,
    },
  ];
}

/** The Web Function's deployed-path latency cases (change index on), for nchan beside it. */
function deployedPathCases(): LatencyCase[] {
  return webFunctionSpec()
    .latency.filter((c) => c.changeIndex !== false)
    .map(({ name, subscribers, channels, events, ratePerSecond }) => ({
      name,
      subscribers,
      channels,
      events,
      ratePerSecond,
    }));
}

function showLatency(r: LatencyResult): void {
  log(
    `${r.name} @ ${r.ratePerSecond}/s: p50 ${round(r.latencyMs.p50)} ms, p95 ${round(r.latencyMs.p95)} ms, p99 ${round(r.latencyMs.p99)} ms, max ${round(r.latencyMs.max)} ms; ${r.delivered}/${r.expectedDeliveries} delivered, ${r.duplicates} duplicates, ${r.subscribersOpened} opened${r.breakdown === undefined ? '' : `; publish→stored p50 ${round(r.breakdown.publishToStoredMs.p50)} / p99 ${round(r.breakdown.publishToStoredMs.p99)} ms, stored→received p50 ${round(r.breakdown.storedToReceivedMs.p50)} / p99 ${round(r.breakdown.storedToReceivedMs.p99)} ms`}`,
  );
}

function showFanout(what: string, f: FanoutResult): void {
  log(
    `${what} ${f.events} events × ${f.subscribers} subscribers: ${f.delivered} delivered in ${round(f.elapsedMs)} ms = ${Math.round(f.deliveriesPerSecond)} deliveries/s (ingestion took ${round(f.publishMs)} ms; clients used ${round(f.clientCpuShare * 100)}% of a core, the server ${round(f.serverCpuShare * 100)}%)`,
  );
}

interface FanoutSize {
  readonly subscribers: number;
  readonly events: number;
}

type FanoutTarget = Parameters<typeof measureFanout>[0];

/** The latency cases, then the fan-out burst published through `/sns`, on one server. */
async function latencyAndFanout(
  server: FanoutTarget,
  target: 'baseline' | 'nchan' | 'product',
  size: FanoutSize,
): Promise<{ latency: LatencyResult[]; fanout: FanoutResult }> {
  const latency: LatencyResult[] = [];
  for (const spec of latencyCases()) {
    // Only the product stores events, so only it has the envelope's stored time.
    const r = await measureLatency(server, spec, `lat-${target}`, {
      probe: target === 'product',
    });
    latency.push(r);
    showLatency(r);
  }
  const fanout = await measureFanout(server, size.subscribers, size.events, `fan-${target}`);
  showFanout('fan-out, published', fanout);
  return { latency, fanout };
}

/** The same burst stored straight into the stack's event log: the fan-out alone. */
async function fanoutStoredDirectly(
  server: ServerChild,
  size: FanoutSize,
): Promise<FanoutResult | undefined> {
  if (server.dynamoEndpoint === undefined) return undefined;
  const client = new DynamoDBClient({
    endpoint: server.dynamoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const stackLog = new DynamoDBEventLog({ client, tableName: STACK_TABLE });
  try {
    const stored = await measureFanout(
      server,
      size.subscribers,
      size.events,
      'fan-stored',
      async (channel, data) => {
        for (let i = 0; i < data.length; i += 49) {
          await stackLog.append(
            channel,
            data.slice(i, i + 49).map((d, k) => ({
              event: 'message',
              data: d,
              dedupeKey: `fan-${i + k}`,
            })),
          );
        }
      },
    );
    showFanout('fan-out, stored straight into the log', stored);
    return stored;
  } finally {
    client.destroy();
  }
}

/** 128 per-user channels idle on nchan: the deployed path's idle case. */
const NCHAN_IDLE = { connections: 128, seconds: scale(30, 8) };

/**
 * nchan's run, when Debian's module is installed: the shared latency cases and fan-out
 * burst, then the deployed path's latency cases and an idle window. When it is not (or
 * nginx does not start), the reason, which the report prints instead of the rows.
 */
async function measureNchan(size: FanoutSize): Promise<{
  result: NchanResult;
  latency?: LatencyResult[];
  fanout?: FanoutResult;
}> {
  const install = findNchan();
  if ('missing' in install) {
    log(`nchan skipped: ${install.missing}`);
    return { result: { version: 'unknown', missing: install.missing } };
  }
  const version = nchanVersion(install);
  let server: NchanServer;
  try {
    server = await startNchanServer(install);
  } catch (error) {
    const missing = error instanceof Error ? error.message : String(error);
    log(`nchan skipped: ${missing}`);
    return { result: { version, missing } };
  }
  try {
    log(`nchan: ${version}`);
    const target = { ...server, openedBy: 'status' as const };
    const shared = await latencyAndFanout(target, 'nchan', size);
    const deployedPath: LatencyResult[] = [];
    for (const spec of deployedPathCases()) {
      const r = await measureLatency(target, spec, 'lat-nchan-deployed');
      deployedPath.push(r);
      showLatency(r);
    }
    const idle = await measureNchanIdle(
      server,
      NCHAN_IDLE.connections,
      NCHAN_IDLE.seconds,
      'nchan-idle',
    );
    log(
      `nchan idle, ${idle.connections} connections on ${idle.channels} channels: ${idle.opened} open; CPU ${round(idle.cpuSeconds, 3)} s in ${round(idle.seconds, 1)} s (${round(idle.cpuShare * 100, 2)}% of a core) = ${round(idle.cpuSecondsPerConnectionHour, 4)} CPU-s per connection-hour; RSS ${round(idle.rssBeforeBytes / 2 ** 20, 1)} → ${round(idle.rssBytes / 2 ** 20, 1)} MiB`,
    );
    return { result: { version, deployedPath, idle }, ...shared };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  if (args.render !== undefined) {
    const saved = JSON.parse(readFileSync(args.render, 'utf8')) as BenchResults & {
      summary?: unknown;
    };
    const { summary: _old, ...results } = saved;
    const soakTrace = args['soak-trace'];
    if (soakTrace !== undefined) {
      // Lets a soak run's summary join figures measured earlier.
      const trace = parseSoakTrace(JSON.parse(readFileSync(soakTrace, 'utf8')));
      Object.assign(results, { soak: { meta: trace.meta, report: checkSoakTrace(trace) } });
    }
    write(args.out ?? 'docs', results);
    log(`re-rendered ${args.out ?? 'docs'}/benchmarks.md from ${args.render}`);
    return;
  }

  if (args.only !== undefined) {
    if (args.only !== 'web-function')
      throw new Error(`--only takes web-function, not ${args.only}`);
    log(
      `bench --only web-function: load ${loadavg()
        .map((l) => round(l, 2))
        .join(' ')}${QUICK ? ' (quick)' : ''}`,
    );
    await onlyWebFunction();
    return;
  }

  const results: { -readonly [K in keyof BenchResults]?: BenchResults[K] } = {
    machine: machine(),
    quick: QUICK,
  };
  log(
    `bench: ${results.machine?.nproc} cores, ${results.machine?.memoryGiB} GiB, Node ${process.version}, load ${results.machine?.loadAverageAtStart.join(' ')}${QUICK ? ' (quick)' : ''}`,
  );

  // 1. Bundles.
  log('\n== Lambda bundles (esbuild, the CDK options) ==');
  const bundles: BundleResult[] = await measureBundles(scale(9, 3));
  for (const b of bundles) {
    log(
      `${b.name}: ${b.bytes} B minified (${b.gzipBytes} B gzip; AWS SDK ${b.awsSdkBytes} B, own code ${b.ownBytes} B); init median ${round(b.initMs)} ms, with --enable-source-maps ${round(b.initWithSourceMapsMs)} ms; process start → ready ${round(b.processToReadyMs)} ms; connections opened at import: ${b.requestsAtImport}`,
    );
  }
  results.bundles = bundles;

  // 2. DynamoDB Local: append throughput and reads.
  log(`\n== DynamoDB Local (${elapsed()}) ==`);
  const dynamo = await startDynamoDBLocal({});
  const tableName = 'bench-events';
  try {
    await ensureTable(dynamo.client, eventLogTableDefinition(tableName));
    const appendCases: AppendCase[] = [
      {
        name: 'hot, 1 writer, 1 per append',
        channels: 1,
        writers: 1,
        batch: 1,
        events: scale(1_000, 200),
        maxSeconds: 6,
      },
      {
        name: 'hot, 1 writer, 10 per append',
        channels: 1,
        writers: 1,
        batch: 10,
        events: scale(4_000, 500),
        maxSeconds: 6,
      },
      {
        name: 'hot, 1 writer, 49 per append',
        channels: 1,
        writers: 1,
        batch: 49,
        events: scale(12_000, 1_000),
        maxSeconds: 8,
      },
      {
        name: 'hot, 4 writers, 49 per append',
        channels: 1,
        writers: 4,
        batch: 49,
        events: scale(12_000, 1_000),
        maxSeconds: 8,
      },
      {
        name: '100 channels, 8 writers, 10 per append',
        channels: 100,
        writers: 8,
        batch: 10,
        events: scale(6_000, 500),
        maxSeconds: 8,
      },
      {
        name: '100 channels, 8 writers, 49 per append',
        channels: 100,
        writers: 8,
        batch: 49,
        events: scale(12_000, 1_000),
        maxSeconds: 8,
      },
    ];
    const appends: AppendResult[] = [];
    for (const [i, spec] of appendCases.entries()) {
      const r = await measureAppend(dynamo.endpoint, tableName, spec, `append-${i}`);
      appends.push(r);
      log(
        `append ${r.name}: ${r.appended} events in ${round(r.seconds, 2)} s = ${Math.round(r.eventsPerSecond)}/s; ${r.transactions} transactions (${r.cancelledTransactions} cancelled), ${round(r.writeUnitsPerEvent, 2)} WCU/event; lost ${r.lost}, duplicated ${r.duplicated}, gaps ${r.gaps}, misplaced ${r.misplaced}; redelivery of ${r.redelivery.sent}: ${r.redelivery.reportedDuplicate} duplicate, ${r.redelivery.samePosition} same position, ${r.redelivery.storedAgain} stored again`,
      );
    }
    results.appends = appends;

    log(`\n== Local SNS delivery (${elapsed()}) ==`);
    const localSns: LocalSnsResult[] = [];
    for (const [i, spec] of [
      { name: 'one hot channel', channels: 1, events: scale(5_000, 500) },
      { name: '100 channels', channels: 100, events: scale(5_000, 500) },
    ].entries()) {
      const r = await measureLocalSns(dynamo.client, tableName, spec, `local-sns-${i}`);
      localSns.push(r);
      log(
        `local SNS ${r.name}: live burst of ${r.delivered} stored in ${round(r.publishSeconds, 2)} s, in the event log after ${round(r.seconds, 2)} s (${Math.round(r.eventsPerSecond)}/s); left in the outbox, drained in ${round(r.drainSeconds, 2)} s = ${Math.round(r.drainEventsPerSecond)}/s; quiet channel waited ${Math.round(r.quietWaitMs)} ms (${Math.round(r.quietStoreMs)} ms of it its outbox write) behind ${r.backlogLeftAtQuiet} undelivered; lost ${r.lost}, duplicated ${r.duplicated}, out of order ${r.outOfOrder}`,
      );
    }
    results.localSns = localSns;

    log(`\n== Event-log reads (${elapsed()}) ==`);
    const writerLog = new DynamoDBEventLog({ client: dynamo.client, tableName });
    const context = { endpoint: dynamo.endpoint, tableName, writerLog };
    const idle: IdleReads[] = [];
    const active: ActiveReads[] = [];
    const idleSeconds = scale(10, 4);
    const activeSpec = { rate: 5, seconds: scale(10, 4) };
    const node = await startServerChild({
      mode: 'node',
      dynamoEndpoint: dynamo.endpoint,
      tableName,
    });
    try {
      const nodeCases = [
        { subscribers: 10, channels: 1, active: undefined },
        { subscribers: 100, channels: 1, active: activeSpec },
        { subscribers: scale(1_000, 200), channels: 1, active: activeSpec },
        { subscribers: scale(1_000, 200), channels: 100, active: undefined },
      ];
      for (const [i, c] of nodeCases.entries()) {
        const r = await nodeReads(node, context, {
          prefix: `reads-node-${i}`,
          subscribers: c.subscribers,
          channels: c.channels,
          idleSeconds,
          active: c.active,
        });
        idle.push(r.idle);
        if (r.active !== undefined) active.push(r.active);
      }
    } finally {
      await node.stop();
    }
    const lambdaIdle = await lambdaReads(context, {
      prefix: 'reads-lambda-idle',
      sessions: LAMBDA_IDLE_SESSIONS,
      idleSeconds: LAMBDA_IDLE_SECONDS,
    });
    idle.push(lambdaIdle.idle);
    const lambdaActive = await lambdaReads(context, {
      prefix: 'reads-lambda-active',
      sessions: scale(50, 10),
      idleSeconds: 2,
      active: activeSpec,
    });
    if (lambdaActive.active !== undefined) active.push(lambdaActive.active);
    // The function URL host's latency: the Web Function's two deployed-path cases, each
    // stream polling on its own.
    const lambdaLatency: LambdaLatencyResult[] = [];
    for (const c of webFunctionSpec().latency.filter((x) => x.changeIndex !== false)) {
      const r = await measureLambdaLatency(context, {
        name: c.name,
        sessions: c.subscribers,
        channels: c.channels,
        events: c.events,
        ratePerSecond: c.ratePerSecond,
      });
      lambdaLatency.push(r);
      log(
        `Lambda fleet latency, ${r.name} @ ${r.ratePerSecond}/s: p50 ${round(r.latencyMs.p50)} ms, p99 ${round(r.latencyMs.p99)} ms; ${r.delivered}/${r.expected} delivered, lost ${r.lost}, duplicated ${r.duplicates}, out of order ${r.outOfOrder}`,
      );
    }
    results.lambdaLatency = lambdaLatency;
    for (const r of idle) {
      log(
        `idle ${r.fleet} ${r.subscribers} subscribers / ${r.channels} channel(s): ${round(r.readsPerSecond, 2)} reads/s = ${round(r.readsPerConnectionSecond, 4)} per connection-second, ${round(r.readsPerPollInterval, 2)} per poller per poll interval; ${round(r.connectReadsPerConnection, 2)} reads per connect`,
      );
    }
    for (const r of active) {
      log(
        `active ${r.fleet} ${r.subscribers} subscribers, ${r.ratePerSecond} events/s: ${r.delivered} delivered, ${r.reads} reads = ${round(r.readsPerDeliveredEvent, 4)} reads (${round(r.readUnitsPerDeliveredEvent, 4)} RCU) per delivered event`,
      );
    }
    results.idleReads = idle;
    results.activeReads = active;

    // The Web Function host, on the same DynamoDB Local, beside this run's Lambda fleet.
    log(`\n== Lambda Web Function host (${elapsed()}) ==`);
    const webFunction: WebFunctionResult = await measureWebFunction(
      {
        dynamoEndpoint: dynamo.endpoint,
        tableName,
        // The writer Lambda of a Web Function deployment records the change index.
        writerLog: indexedWriter(dynamo.client, tableName),
        lambdaFleet: lambdaIdle.idle,
        log,
      },
      webFunctionSpec(),
    );
    results.webFunction = webFunction;
  } finally {
    await dynamo.stop();
  }

  // 3. Latency and fan-out: the baseline, nchan where installed, then the product.
  const fanout = { subscribers: scale(1_000, 200), events: scale(300, 50) };
  log(`\n== Latency and fan-out: baseline (${elapsed()}) ==`);
  const baseline = await startServerChild({ mode: 'baseline' });
  let base: { latency: LatencyResult[]; fanout: FanoutResult };
  try {
    base = await latencyAndFanout(baseline, 'baseline', fanout);
  } finally {
    await baseline.stop();
  }
  log(`\n== Latency and fan-out: nchan (${elapsed()}) ==`);
  const nchan = await measureNchan(fanout);
  log(`\n== Latency and fan-out: product (${elapsed()}) ==`);
  const stack = await startServerChild({ mode: 'stack', env: { [ENV.tableName]: STACK_TABLE } });
  let product: { latency: LatencyResult[]; fanout: FanoutResult };
  let fanoutStored: FanoutResult | undefined;
  try {
    product = await latencyAndFanout(stack, 'product', fanout);
    fanoutStored = await fanoutStoredDirectly(stack, fanout);
  } finally {
    await stack.stop();
  }
  results.latency = {
    product: product.latency,
    baseline: base.latency,
    ...(nchan.latency === undefined ? {} : { nchan: nchan.latency }),
  };
  results.fanout = {
    product: product.fanout,
    baseline: base.fanout,
    productStoredDirectly: fanoutStored,
    ...(nchan.fanout === undefined ? {} : { nchan: nchan.fanout }),
  };
  results.nchan = nchan.result;

  // 4. Memory per idle connection.
  const memoryFirst = scale(500, 100);
  const memoryConnections = scale(2_500, 400);
  const memory: Partial<Record<'product' | 'baseline', MemoryResult>> = {};
  for (const target of ['product', 'baseline'] as const) {
    log(`\n== Memory per idle connection: ${target} (${elapsed()}) ==`);
    const server = await startServerChild(
      { mode: target === 'product' ? 'stack' : 'baseline' },
      { exposeGc: true },
    );
    try {
      const m = await measureMemory(server, memoryFirst, memoryConnections, 'memory-idle');
      memory[target] = m;
      log(
        `${m.opened}/${m.connections} idle connections, per connection from ${m.first} to ${m.connections}: RSS ${Math.round(m.perConnection.rss)} B, heap used ${Math.round(m.perConnection.heapUsed)} B, JS (heap + external + buffers) ${Math.round(m.perConnection.js)} B; average from zero: RSS ${Math.round(m.averageFromZero.rss)} B`,
      );
    } finally {
      await server.stop();
    }
  }
  if (memory.product === undefined || memory.baseline === undefined) throw new Error('no memory');
  results.memory = { product: memory.product, baseline: memory.baseline };

  const soakTrace = args['soak-trace'];
  if (soakTrace !== undefined) {
    const trace = parseSoakTrace(JSON.parse(readFileSync(soakTrace, 'utf8')));
    const report = checkSoakTrace(trace);
    results.soak = { meta: trace.meta, report };
    log(
      `\nsoak trace ${soakTrace}: ${report.ok ? 'passed' : 'FAILED'}, ${report.deliveries} deliveries`,
    );
  }

  results.durationSeconds = Math.round((Date.now() - t0) / 1000);
  results.loadAverageAtEnd = loadavg().map((l) => round(l, 2));
  const complete = results as BenchResults;
  const summary = summarize(complete);
  log(`\n== Targets (${elapsed()}) ==`);
  for (const t of summary.targets) {
    log(`${t.met ? 'met   ' : 'MISSED'} [${t.issue}] ${t.target}: ${t.measured}`);
  }
  log('\n== Cost (Lambda deployment, us-east-1, arm64) ==');
  for (const row of summary.cost.rows)
    log(`${row.item}: ${row.quantity} → $${row.dollars.toPrecision(3)} ${row.per}`);

  const dir = args.out ?? 'docs';
  write(dir, complete);
  log(`\nwrote ${dir}/benchmarks.md and ${dir}/benchmarks.json in ${elapsed()}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('bench failed:', error);
    process.exit(1);
  },
);
