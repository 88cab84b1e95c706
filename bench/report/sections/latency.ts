/** The "Publish → receive latency" section: product against baseline per case, and a breakdown. */
import { DEPLOYMENT_DEFAULTS } from '../../../functions/config/environment.js';
import type { LatencyResult } from '../../latency.js';
import { round } from '../../lib/stats.js';
import { type Emit, find, ms, table } from '../format.js';
import type { BenchResults } from '../types.js';

const { pollMinMs, pollMaxMs } = DEPLOYMENT_DEFAULTS;

const lat = (d: LatencyResult['latencyMs']): string[] => [ms(d.p50), ms(d.p95), ms(d.p99)];

export function latencySection(p: Emit, r: BenchResults): void {
  p('## Publish → receive latency');
  p();
  p(
    'Publisher: the publisher SDK on the real `SNSClient`, `POST /sns` of the server under test, one `Publish` per event at a steady rate. ' +
      "Subscribers: raw `node:http` SSE readers feeding `eventsource-parser` (the parser inside the npm `eventsource` package; the wire behaviour is a browser EventSource's), all in the bench process; " +
      "the server runs in its own process. Latency = arrival of the event's last line at a subscriber − the publish time written into the payload just before the SNS call (same clock). " +
      'Each case connects its subscribers (from "latest", waiting for each one\'s `stream.open`), publishes a few unmeasured warm-up events, then the measured ones. ' +
      `Product = the local stack as \`npm start\` runs it (in memory, default configuration: POLL_MIN_MS ${pollMinMs}, POLL_MAX_MS ${pollMaxMs}). ` +
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
      `Publish → stored is the SNS endpoint, the outbox table and one writer transaction on DynamoDB Local. Stored → received is dominated by the wait for the channel's next poll: ${pollMinMs} ms after a poll that found events, doubling after each empty poll up to ${pollMaxMs} ms; on 100 channels at 20 events/s each channel sees an event every 5 s, so its poller has backed off to ${pollMaxMs} ms and the wait is spread over 0–${pollMaxMs} ms.`,
    );
    p();
  }
}
