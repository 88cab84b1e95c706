/**
 * The "Lambda Web Function host" section: idle reads, CPU and memory of the web-server
 * bundle per connection-hour beside the Lambda fleet, and append → receive latency with
 * the writer in another process. Takes the section's own result, so `--only
 * web-function` can print it without a full run.
 */

import { DEFAULT_SAFETY_POLL_SECONDS } from '../../../functions/config/change-index-config.js';
import { DEPLOYMENT_DEFAULTS } from '../../../functions/config/environment.js';
import { DEFAULT_CHANGE_POLL } from '../../../functions/core/change-index.js';
import { round } from '../../lib/stats.js';
import type { WebFunctionResult } from '../../web-function.js';
import { indexed } from '../figures.js';
import { type Emit, kb, ms, table } from '../format.js';

const mib = (bytes: number): string => `${round(bytes / 2 ** 20, 1)} MiB`;
const load = (l: readonly number[]): string => l.join(' / ');
const { pollMinMs, pollMaxMs, heartbeatSeconds } = DEPLOYMENT_DEFAULTS;
/** Where a case's server hears of events from. */
const newsFrom = (x: { readonly changeIndex?: boolean }): string =>
  indexed(x) ? 'change index' : `own polls, ${pollMinMs} → ${pollMaxMs} ms`;

/** The idle windows' lengths, and whether the indexed per-user one spans a safety period. */
function windows(w: WebFunctionResult): string {
  const lengths = [...new Set(w.idle.map((x) => round(x.seconds, 0)))].sort((a, b) => a - b);
  const longest = w.idle
    .filter(indexed)
    .reduce<(typeof w.idle)[number] | undefined>(
      (a, b) => (a === undefined || b.seconds > a.seconds ? b : a),
      undefined,
    );
  const sweep =
    longest === undefined || longest.seconds < DEFAULT_SAFETY_POLL_SECONDS
      ? `none spans a full ${DEFAULT_SAFETY_POLL_SECONDS} s safety period, so the sweep's reads may fall outside them`
      : `the ${round(longest.seconds, 0)} s one (${longest.name}) spans at least one full ${DEFAULT_SAFETY_POLL_SECONDS} s safety period, so the sweep's reads and CPU are inside it`;
  return `idle windows of ${lengths.join(' or ')} s (${sweep})`;
}

export function webFunctionSection(p: Emit, w: WebFunctionResult): void {
  const lambda = w.lambdaFleet;
  const lambdaPerHour = lambda.readsPerConnectionSecond * 3600;
  p('## Lambda Web Function host');
  p();
  p(
    `The subscribe routes' second host, measured as it runs on AWS: \`functions/handlers/web-server.ts\` bundled by esbuild with the construct's options but \`target: node24\`, started under Node ${w.node} (\`scripts/setup-node24.sh\`) as its own process, listening on \`AWS_LAMBDA_HTTP_ENDPOINT\`, one \`SharedFeed\` (one poller per channel) for all its streams. ` +
      'The writer is in another process, as on AWS: the bench appends through `DynamoDBEventLog` on its own client, straight to DynamoDB Local, as the writer Lambda does. ' +
      `With the change index (the default for this host; "News from: change index") the appender PutItems an entry \`#changes/<shard>/<minute>\` after each append; the server Queries the index every CHANGE_POLL_MIN_MS ${DEFAULT_CHANGE_POLL.minMs} ms while entries come, backing off to CHANGE_POLL_MAX_MS ${DEFAULT_CHANGE_POLL.maxMs} ms, and reads only the channels that moved; each channel is otherwise checked only by the safety sweep, every SAFETY_POLL_SECONDS ${DEFAULT_SAFETY_POLL_SECONDS} s, one BatchGetItem per 100 channels. ` +
      `The rows "own polls" run the same server without CHANGE_INDEX_SHARDS: each channel polls itself, POLL_MIN_MS ${pollMinMs} after a poll that found events, backing off to POLL_MAX_MS ${pollMaxMs} ms. ` +
      "The server's DynamoDB endpoint (`AWS_ENDPOINT_URL_DYNAMODB`) is a counting proxy in the bench process: it passes every request on unchanged and counts it by `X-Amz-Target` and, for reads, by the channel in its key (a BatchGetItem is one read of the case if any of its keys is one of the case's channels, at 0.5 unit per key), so the figures cover each case's channels and the index's partitions only; read units are AWS's minimum per request (0.5 eventually consistent), exact for polls that return ≤ 4 KB. " +
      `CPU is utime + stime of the server process from \`/proc/<pid>/stat\`, memory its VmRSS from \`/proc/<pid>/status\` (CPU comes in clock ticks of 10 ms, so a window's CPU-seconds are ± 0.01), both over ${windows(w)}, each starting ${w.warmSeconds} s after every connection has had its \`stream.open\` (heartbeat every ${heartbeatSeconds} s). ` +
      "Each case runs on a fresh server process; the no-connection row is the first case's server, measured before its first connection. The SSE clients are the bench's own readers in the bench process. " +
      `Load average ${load(w.loadAtStart)} when the section started and ${load(w.loadAtEnd)} when it ended (${w.durationSeconds} s); each row gives the load when it was taken.`,
  );
  p();
  p(
    table(
      [
        'Host',
        'News from',
        'Connections',
        'Channels',
        'Open',
        'Window',
        'Query',
        'of them the index',
        'GetItem',
        'BatchGetItem',
        'Reads per idle connection-hour',
        'RCU per idle connection-hour',
        'Reads per channel-second',
        'Load (1 / 5 / 15 min)',
      ],
      [
        ...w.idle.map((x) => [
          'Web Function',
          newsFrom(x),
          x.connections,
          x.channels,
          `${x.opened}/${x.connections}`,
          `${round(x.seconds, 0)} s`,
          x.queries,
          x.indexQueries ?? '',
          x.getItems,
          x.batchGets ?? '',
          round(x.readsPerConnectionHour, 1),
          round(x.readUnitsPerConnectionHour, 1),
          round(x.readsPerChannelSecond, 2),
          load(x.load),
        ]),
        [
          'Lambda fleet (same run)',
          'own polls, one per stream',
          lambda.subscribers,
          lambda.channels,
          '',
          `${round(lambda.seconds, 0)} s`,
          '',
          '',
          '',
          '',
          round(lambdaPerHour, 1),
          round(lambda.readUnitsPerConnectionHour, 1),
          '',
          '',
        ],
      ],
    ),
  );
  p();
  const one = w.idle.find((x) => x.channels === 1 && indexed(x));
  if (one !== undefined) {
    p(
      `**Reads per idle connection-hour, ${one.name}, Web Function ÷ Lambda fleet: ${round(w.readRatio, 4)} = 1/${round(1 / w.readRatio, 0)}** (${round(one.readsPerConnectionHour, 1)} against ${round(lambdaPerHour, 1)}; the acceptance is at most 1/100). ` +
        "A Web Function's reads are per server (the index) and per channel (its reads when it moved, the safety sweep, or without the index its own polls), whatever the number of connections on it, where every Lambda stream polls on its own; without the index and with each connection on its own channel the two are alike, one poller per connection.",
    );
    p();
  }
  p(
    table(
      [
        'News from',
        'Connections',
        'Channels',
        'CPU-s in window',
        'CPU (share of one core)',
        'CPU-s per connection-hour',
        'RSS before → at the end',
        'RSS per connection',
        'RSS GB-s per connection-hour',
        'Load (1 / 5 / 15 min)',
      ],
      [
        [
          'change index',
          0,
          0,
          round(w.baseline.cpuSeconds, 3),
          `${round((w.baseline.cpuSeconds / w.baseline.seconds) * 100, 2)}%`,
          `${round(w.baseline.cpuSecondsPerHour, 2)} per hour (no connection)`,
          mib(w.baseline.rssBytes),
          '',
          `${round((w.baseline.rssBytes / 1024 ** 3) * 3600, 0)} per hour`,
          load(w.baseline.load),
        ],
        ...w.idle.map((x) => [
          newsFrom(x),
          x.connections,
          x.channels,
          round(x.cpuSeconds, 3),
          `${round(x.cpuShare * 100, 2)}%`,
          round(x.cpuSecondsPerConnectionHour, 4),
          `${mib(x.rssBeforeBytes)} → ${mib(x.rssBytes)}`,
          kb(x.rssPerConnectionBytes),
          round(x.rssGbSecondsPerConnectionHour, 2),
          load(x.load),
        ]),
      ],
    ),
  );
  p();
  p(
    "What Web Functions bill besides requests: active CPU time and memory over the environment's life (FACTS.md; no prices were found, see [costs.md](costs.md) for the formulas). \"RSS GB-s per connection-hour\" is the whole process's resident memory (GiB, as Lambda counts GB) × 3,600 s ÷ connections; if memory is billed on the environment's 2 GB instead, it is 7,200 ÷ connections. " +
      "RSS is taken as the server runs on AWS, without forced GCs: it includes garbage not collected yet and heap V8 has grown and keeps, which is why a fresh process's first connections look dear and why one poller per connection (each connection on its own channel) costs more memory than a shared one. " +
      "An environment serves at most 128 streams (`maxConcurrencyPerEnvironment`), so the 1,000-connection row shows how the server scales, not one environment's load. Idle CPU is the heartbeats (a write per stream every 15 s) and the reads (an SDK request each): with the change index, the index's Queries, the reads of channels that moved and the safety sweep's BatchGetItems; with own polls, every channel's empty polls.",
  );
  p();
  p(
    table(
      [
        'Case',
        'News from',
        'Events (rate)',
        'p50',
        'p95',
        'p99',
        'max',
        'Delivered',
        'Lost',
        'Duplicated',
        'Out of order',
        'Load (1 / 5 / 15 min)',
      ],
      w.latency.map((x) => [
        x.name,
        newsFrom(x),
        `${x.events} (${x.ratePerSecond}/s)`,
        ms(x.latencyMs.p50),
        ms(x.latencyMs.p95),
        ms(x.latencyMs.p99),
        ms(x.latencyMs.max),
        `${x.delivered}/${x.expected}`,
        x.lost,
        x.duplicates,
        x.outOfOrder,
        load(x.load),
      ]),
    ),
  );
  p();
  p(
    "Latency = arrival of the event at a subscriber − the time written into its payload just before the bench called `append` (one clock). Events are appended one at a time, after one unmeasured second of events at the same rate, spread round robin over the channels, each channel's in sequence order; a subscriber's copy of an event it already had counts as duplicated, one below the highest it had on that channel as out of order. " +
      `With the change index, most of the latency is the wait for the index's next Query (every ${DEFAULT_CHANGE_POLL.minMs} ms while entries come, which they do at the case's rate) and the read of the channel that moved, the same for one channel as for many. ` +
      `With own polls it is the wait for the channel's next poll: ${pollMinMs} ms after a poll that found events, backing off to ${pollMaxMs} ms on a quiet channel, which is what each of many channels is when the events are spread over them.`,
  );
  p();
}
