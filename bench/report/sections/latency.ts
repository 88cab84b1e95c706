/**
 * The "Publish → receive latency" section of the local stack (writer in the server's
 * process): product against better-sse and, where installed, nchan per case, and where
 * the product's time goes.
 */
import { DEPLOYMENT_DEFAULTS } from '../../../functions/config/environment.js';
import type { LatencyResult } from '../../latency.js';
import { round } from '../../lib/stats.js';
import { type Emit, find, ms, table } from '../format.js';
import type { BenchResults } from '../types.js';

const { pollMinMs, pollMaxMs } = DEPLOYMENT_DEFAULTS;

const lat = (d: LatencyResult['latencyMs']): string[] => [ms(d.p50), ms(d.p95), ms(d.p99)];

/** A case's figures on another server, or blanks where that server has no such case. */
function beside(list: readonly LatencyResult[] | undefined, prod: LatencyResult): string[] {
  const other = list?.find((x) => x.name === prod.name);
  if (other === undefined) return ['', '', '', ''];
  return [...lat(other.latencyMs), `${round(prod.latencyMs.p99 / other.latencyMs.p99, 1)}×`];
}

const delivered = (x: LatencyResult | undefined): string =>
  x === undefined ? '' : `${x.delivered}/${x.expectedDeliveries}, dup ${x.duplicates}`;

export function latencySection(p: Emit, r: BenchResults): void {
  const nchan = r.latency.nchan;
  p("## Publish → receive latency: local stack, writer in the server's process");
  p();
  p(
    "Here the writer runs in the server's process (the local stack nudges its feed on append), which only `npm start` can do: every deployment has the writer in another process (previous section). " +
      'Publisher: the publisher SDK on the real `SNSClient`, `POST /sns` of the server under test, one `Publish` per event at a steady rate. ' +
      "Subscribers: raw `node:http` SSE readers feeding `eventsource-parser` (the parser inside the npm `eventsource` package; the wire behaviour is a browser EventSource's), all in the bench process; " +
      "the server runs in its own process. Latency = arrival of the event's last line at a subscriber − the publish time written into the payload just before the SNS call (same clock). " +
      'Each case connects its subscribers (from "latest", waiting for each one\'s `stream.open`, or for nchan, which sends none, its 200), publishes a few unmeasured warm-up events, then the measured ones. ' +
      `Product = the local stack as \`npm start\` runs it (DynamoDB Local in memory, default configuration: POLL_MIN_MS ${pollMinMs}, POLL_MAX_MS ${pollMaxMs}, no change index), its writer in the same process. ` +
      'Baseline = `bench/baseline-server.ts`: better-sse channels, the same `/sns` protocol, broadcast from memory at once (no log, no durability). ' +
      (nchan === undefined
        ? `nchan: ${r.nchan?.missing === undefined ? 'not in this run' : `not measured (${r.nchan.missing})`}. `
        : `nchan = nginx with Debian's nchan module (${r.nchan?.version ?? 'version unknown'}), one worker, its messages kept in shared memory; \`/sns\` goes to a Node endpoint in the bench process that posts each message to nchan's publisher. `) +
      'Ratios are product ÷ that server.',
  );
  p();
  p(
    table(
      [
        'Case',
        'Writer',
        'Events (rate)',
        'Product p50',
        'p95',
        'p99',
        'better-sse p50',
        'p95',
        'p99',
        'p99 ratio',
        ...(nchan === undefined ? [] : ['nchan p50', 'p95', 'p99', 'p99 ratio']),
        `Delivered (product / better-sse${nchan === undefined ? '' : ' / nchan'})`,
      ],
      r.latency.product.map((prod) => {
        const base = find(r.latency.baseline, prod.name);
        const other = nchan?.find((x) => x.name === prod.name);
        return [
          prod.name,
          "server's process",
          `${prod.events} (${prod.ratePerSecond}/s)`,
          ...lat(prod.latencyMs),
          ...beside(r.latency.baseline, prod),
          ...(nchan === undefined ? [] : beside(nchan, prod)),
          [
            delivered(prod),
            delivered(base),
            ...(nchan === undefined ? [] : [delivered(other)]),
          ].join(' / '),
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
      "Publish → stored is the SNS endpoint, the outbox table and one writer transaction on DynamoDB Local. Stored → received is the channel's read after the writer's nudge and the fan-out to the case's subscribers: the writer is in the same process, so no poll interval is waited for. " +
        `Without the nudge, as with a writer in another process and no change index, the wait would be the channel's next poll: ${pollMinMs} ms after a poll that found events, doubling after each empty poll up to ${pollMaxMs} ms.`,
    );
    p();
  }
}
