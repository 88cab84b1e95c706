/**
 * The "Deployed path: the writer in another process" section, right after the targets:
 * every way the product is served (and nchan beside it), with where its writer runs,
 * latency, and the idle cost per connection-hour. Only the local stack can have the
 * writer in the server's process, so it comes last.
 */

import { DEFAULT_SAFETY_POLL_SECONDS } from '../../../functions/config/change-index-config.js';
import { DEPLOYMENT_DEFAULTS } from '../../../functions/config/environment.js';
import { DEFAULT_CHANGE_POLL } from '../../../functions/core/change-index.js';
import type { LatencyResult } from '../../latency.js';
import { round } from '../../lib/stats.js';
import type { WebFunctionResult } from '../../web-function.js';
import { deployedPathCases, type WebFunctionCases } from '../figures.js';
import { type Emit, ms, table } from '../format.js';
import type { BenchResults } from '../types.js';

type Row = readonly (string | number)[];

const ANOTHER = 'another process';
const NOT_MEASURED = 'not measured';
const fmt = (n: number): string => n.toLocaleString('en-US');

const channels = (n: number): string => (n === 1 ? '1 channel' : `${fmt(n)} channels`);

/** "100 subscribers, 1 channel", or for one subscriber per channel "128 per-user channels". */
function latencyLabel(x: { readonly subscribers: number; readonly channels: number }): string {
  return x.channels > 1 && x.channels === x.subscribers
    ? `${fmt(x.channels)} per-user channels`
    : `${fmt(x.subscribers)} subscribers, ${channels(x.channels)}`;
}

const idleLabel = (x: { readonly connections: number; readonly channels: number }): string =>
  `idle: ${fmt(x.connections)} connections, ${channels(x.channels)}`;

function caseLabel(c: WebFunctionCases): string {
  const parts = [
    c.latency === undefined ? undefined : latencyLabel(c.latency),
    c.idle === undefined ? undefined : idleLabel(c.idle),
  ];
  return parts.filter((x) => x !== undefined).join('; ');
}

function webFunctionRow(server: string, c: WebFunctionCases): Row {
  return [
    server,
    ANOTHER,
    caseLabel(c),
    c.latency === undefined ? NOT_MEASURED : ms(c.latency.latencyMs.p50),
    c.latency === undefined ? NOT_MEASURED : ms(c.latency.latencyMs.p99),
    c.idle === undefined ? NOT_MEASURED : round(c.idle.readsPerConnectionHour, 1),
    c.idle === undefined ? NOT_MEASURED : round(c.idle.cpuSecondsPerConnectionHour, 3),
  ];
}

function webFunctionRows(w: WebFunctionResult | undefined): Row[] {
  if (w === undefined) return [];
  const cases = deployedPathCases(w);
  const rows: [string, WebFunctionCases][] = [
    ['Web Function, change index', cases.oneChannel],
    ['Web Function, change index', cases.perUser],
    ['Web Function, own polls (no change index)', cases.perUserOwnPolls],
  ];
  // Older runs had no case without the index: no row rather than a row of blanks.
  return rows
    .filter(([, c]) => c.latency !== undefined || c.idle !== undefined)
    .map(([server, c]) => webFunctionRow(server, c));
}

function lambdaFleetRow(r: BenchResults): Row[] {
  const fleet = r.webFunction?.lambdaFleet ?? r.idleReads.find((x) => x.fleet === 'lambda');
  if (fleet === undefined) return [];
  const server = 'Lambda fleet (function URL host, one poller per stream)';
  const reads = round(fleet.readsPerConnectionSecond * 3600, 1);
  const billed = 'billed as duration';
  const latency = r.lambdaLatency ?? [];
  if (latency.length === 0) {
    return [
      [
        server,
        ANOTHER,
        idleLabel({ connections: fleet.subscribers, channels: fleet.channels }),
        NOT_MEASURED,
        NOT_MEASURED,
        reads,
        billed,
      ],
    ];
  }
  // Every stream polls on its own, so its idle reads are the same whatever the channels.
  return latency.map((x) => [
    server,
    ANOTHER,
    `${latencyLabel({ subscribers: x.sessions, channels: x.channels })}; ${idleLabel({ connections: fleet.subscribers, channels: fleet.channels })}`,
    ms(x.latencyMs.p50),
    ms(x.latencyMs.p99),
    reads,
    billed,
  ]);
}

function nchanRows(r: BenchResults): Row[] {
  const n = r.nchan;
  if (n === undefined || n.missing !== undefined) return [];
  const row = (x: LatencyResult | undefined, cpu: string | number): Row => [
    'nchan',
    ANOTHER,
    x === undefined ? NOT_MEASURED : latencyLabel(x),
    x === undefined ? NOT_MEASURED : ms(x.latencyMs.p50),
    x === undefined ? NOT_MEASURED : ms(x.latencyMs.p99),
    'none (no event log)',
    cpu,
  ];
  const one = n.deployedPath?.find((x) => x.channels === 1);
  const perUser = n.deployedPath?.find((x) => x.channels > 1);
  const idle = n.idle;
  return [
    row(one, '—'),
    row(perUser, idle === undefined ? NOT_MEASURED : round(idle.cpuSecondsPerConnectionHour, 3)),
  ];
}

function localStackRow(r: BenchResults): Row[] {
  const x = r.latency.product.find((c) => c.name === '100 subscribers, 1 channel');
  if (x === undefined) return [];
  const reads = r.idleReads.find(
    (c) => c.fleet === 'node' && c.channels === 1 && c.subscribers === x.subscribers,
  );
  return [
    [
      'Local stack (`npm start`)',
      "the server's process (only `npm start` can do this; no deployment can)",
      latencyLabel(x),
      ms(x.latencyMs.p50),
      ms(x.latencyMs.p99),
      reads === undefined
        ? NOT_MEASURED
        : `${round(reads.readsPerConnectionSecond * 3600, 1)} (Node adapter)`,
      NOT_MEASURED,
    ],
  ];
}

function nchanMethod(r: BenchResults): string {
  const n = r.nchan;
  if (n === undefined || n.missing !== undefined) return '';
  const idle =
    n.idle === undefined
      ? 'not measured'
      : `${n.idle.connections} EventSource connections each on its own channel, ${round(n.idle.seconds, 0)} s after a 3 s warm-up, nginx master and worker CPU from /proc (no one-channel idle window, hence "—")`;
  return (
    `**nchan**: nginx with the nchan module (${n.version}), one worker, published through \`/sns\` (a Node endpoint in the bench process posting each message to nchan's publisher), the same cases at the same rates, publish → receive; ` +
    `its idle window: ${idle}. `
  );
}

function method(p: Emit, r: BenchResults): void {
  const w = r.webFunction;
  const perUserIdle = deployedPathCases(w).perUser.idle;
  const window =
    perUserIdle === undefined
      ? ''
      : perUserIdle.seconds >= DEFAULT_SAFETY_POLL_SECONDS
        ? ` The indexed per-user idle window is ${round(perUserIdle.seconds, 0)} s, at least one full safety period, so the sweep's reads and CPU are inside it.`
        : ` The indexed per-user idle window is ${round(perUserIdle.seconds, 0)} s, shorter than the ${DEFAULT_SAFETY_POLL_SECONDS} s safety period, so the sweep's reads may fall outside it.`;
  p(
    'Every row but the last has the writer in another process, as every deployment has it: the server hears of an event from the store, never from the writer. ' +
      `**Web Function** = the web-server bundle under Node ${w?.node ?? '24'} (section "Lambda Web Function host"); its latency is append → receive: the bench appends one event at a time through \`DynamoDBEventLog\`, as the writer Lambda does (on AWS, SNS → SQS → the writer come before the append), at ${w?.latency[0]?.ratePerSecond ?? 25} events/s after one unmeasured second. ` +
      `With the change index (as the construct deploys it) the writer PutItems an entry \`#changes/<shard>/<minute>\` after each append; the server Queries the index every CHANGE_POLL_MIN_MS ${DEFAULT_CHANGE_POLL.minMs} ms while entries come, backing off to CHANGE_POLL_MAX_MS ${DEFAULT_CHANGE_POLL.maxMs} ms, and reads only the channels that moved; each channel is otherwise checked only by the safety sweep, every SAFETY_POLL_SECONDS ${DEFAULT_SAFETY_POLL_SECONDS} s, one BatchGetItem per 100 channels. ` +
      `Own polls = the same server without CHANGE_INDEX_SHARDS: each channel polls itself, POLL_MIN_MS ${DEPLOYMENT_DEFAULTS.pollMinMs} → POLL_MAX_MS ${DEPLOYMENT_DEFAULTS.pollMaxMs} ms. ` +
      `Reads and CPU per idle connection-hour come from the Web Function's idle cases of the same sizes (event-log reads of the case's channels and of the index, counted at the DynamoDB proxy; CPU of the server process from /proc).${window} ` +
      `**Lambda fleet**: the function URL host simulated in the bench process, one \`PollingFeed\` and \`runStreamSession\` per stream as each invocation runs them (\`bench/lambda-latency.ts\`), with the same appends at the same rate; each stream polls on its own (POLL_MIN_MS ${DEPLOYMENT_DEFAULTS.pollMinMs} → POLL_MAX_MS ${DEPLOYMENT_DEFAULTS.pollMaxMs} ms), so its idle reads per connection do not depend on the channels (reads section's idle case). A Lambda stream is billed by duration, not CPU, so there is no CPU figure to compare. ` +
      nchanMethod(r) +
      "**Local stack**: the latency section's case, publish → receive with the writer in the server's process (it nudges the channel's poller after each append); its reads are the Node adapter's idle reads with as many subscribers on one channel (reads section).",
  );
}

export function deployedPathSection(p: Emit, r: BenchResults): void {
  p('## Deployed path: the writer in another process');
  p();
  p(
    table(
      [
        'Server',
        'Where the writer runs',
        'Case',
        'p50',
        'p99',
        'Event-log reads per idle connection-hour',
        'Server CPU-s per idle connection-hour',
      ],
      [
        ...webFunctionRows(r.webFunction),
        ...lambdaFleetRow(r),
        ...nchanRows(r),
        ...localStackRow(r),
      ],
    ),
  );
  p();
  if (r.nchan?.missing !== undefined) {
    p(`nchan: not measured in this run (${r.nchan.missing}).`);
    p();
  }
  method(p, r);
  p();
}
