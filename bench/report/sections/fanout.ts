/**
 * The "Fan-out throughput" section: one burst to many subscribers, published (product,
 * better-sse, nchan where installed) and stored directly (product).
 */
import type { FanoutResult } from '../../latency.js';
import { round } from '../../lib/stats.js';
import { cpuPerDeliveryUs } from '../figures.js';
import { type Emit, ms, pct, table } from '../format.js';
import type { BenchResults, Summary } from '../types.js';

export function fanoutSection(p: Emit, r: BenchResults, s: Summary): void {
  p('## Fan-out throughput');
  p();
  const fp = r.fanout.product;
  const fb = r.fanout.baseline;
  const fs = r.fanout.productStoredDirectly;
  const fn = r.fanout.nchan;
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
    round(cpuPerDeliveryUs(f), 1),
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
        'Server CPU per delivery (µs)',
      ],
      [
        fanoutRow('Product (local stack), published', fp),
        ...(fs === undefined ? [] : [fanoutRow('Product, burst stored straight into the log', fs)]),
        fanoutRow('Baseline (better-sse), published', fb),
        ...(fn === undefined ? [] : [fanoutRow('nchan, published', fn)]),
      ],
    ),
  );
  p();
  const nchanNote =
    fn === undefined
      ? `nchan: ${r.nchan?.missing === undefined ? 'not in this run' : `not measured (${r.nchan.missing})`}. `
      : `nchan's CPU is nginx's master and worker together, from /proc; its \`/sns\` endpoint (the Node process that posts each message to nchan's publisher) is the bench's and not counted. `;
  p(
    `Ratio product ÷ baseline: **${round(s.ratios.fanout, 2)}×** end to end${s.ratios.fanoutStoredDirectly === undefined ? '' : `, **${round(s.ratios.fanoutStoredDirectly, 2)}×** for the fan-out alone`}. ` +
      "CPU is a share of one core over the burst (the server's excludes DynamoDB Local's Java process); where it nears 100%, that process is the bottleneck, as for the baseline. " +
      `Server CPU per delivery: product ${round(cpuPerDeliveryUs(fs ?? fp), 1)} µs${fs === undefined ? '' : ' (fan-out alone)'}, better-sse ${round(cpuPerDeliveryUs(fb), 1)} µs${fn === undefined ? '' : `, nchan ${round(cpuPerDeliveryUs(fn), 1)} µs`}` +
      (cpuPerDeliveryUs(fs ?? fp) > cpuPerDeliveryUs(fb)
        ? " (each of our deliveries carries its own cursor id and goes through the session's paged ring read and awaited write)"
        : '') +
      ((fs ?? fp).serverCpuShare < 0.95
        ? `; the product's server did not reach a full core (${pct((fs ?? fp).serverCpuShare)}), so part of its time it waited: for the channel's poller (up to 100 events per poll), or for a CPU, shared on ${r.machine.nproc} cores with the clients and DynamoDB Local. `
        : '. ') +
      nchanNote +
      (fs === undefined
        ? ''
        : `Publishing through \`/sns\` (outbox table, writer rounds of 10 events, one transaction each) took ${ms(fp.elapsedMs - fs.elapsedMs)} longer than appending the burst straight to the log, so ingestion is ${pct(Math.max(0, fp.elapsedMs - fs.elapsedMs) / fp.elapsedMs)} of the product's time here and the rest is the fan-out. `) +
      'The baseline writes each event to every session as the publish request arrives.',
  );
  p();
}
