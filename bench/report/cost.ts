/** What the measured requests cost on AWS: the prices, and the cost rows and totals. */
import { DEPLOYMENT_DEFAULTS } from '../../functions/config/environment.js';
import { round } from '../lib/stats.js';
import type { BenchResults, CostRow, Summary } from './types.js';

/** us-east-1 prices from /work/shared/FACTS.md (2026-11); re-check before quoting. */
export const PRICES = {
  lambdaArmGbSecond: 0.0000133334,
  lambdaPerRequest: 0.2 / 1e6,
  dynamoPerWriteUnit: 0.625 / 1e6,
  dynamoPerReadUnit: 0.125 / 1e6,
  snsPerPublish: 0.5 / 1e6,
} as const;

const { streamMemoryMb, writerBatchSize, streamLifetimeSeconds, streamLifetimeJitter } =
  DEPLOYMENT_DEFAULTS;

export function cost(r: BenchResults): Summary['cost'] {
  const lambdaIdle = r.idleReads.find((x) => x.fleet === 'lambda');
  const lambdaActive = r.activeReads.find((x) => x.fleet === 'lambda');
  const nodeIdle = r.idleReads.find((x) => x.fleet === 'node' && x.channels === 1);
  const nodeActive = r.activeReads.filter((x) => x.fleet === 'node').at(-1);
  const batched = r.appends.find((a) => a.channels === 1 && a.batch === writerBatchSize);
  const single = r.appends.find((a) => a.channels === 1 && a.batch === 1);
  const meanLifetimeS = streamLifetimeSeconds * (1 - streamLifetimeJitter / 2);
  const invocationsPerHour = 3600 / meanLifetimeS;
  const gb = streamMemoryMb / 1024;

  const rows: CostRow[] = [];
  const idleRcuHour = lambdaIdle?.readUnitsPerConnectionHour ?? Number.NaN;
  const connectRcu = lambdaIdle?.connectUnitsPerConnection ?? Number.NaN;
  rows.push(
    {
      item: 'Lambda duration (a stream is one invocation for its whole life)',
      quantity: `3,600 s × ${streamMemoryMb} MB = ${round(3600 * gb)} GB-s`,
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
      item: `DynamoDB writes, ${writerBatchSize} events per transaction (measured transactions, AWS's unit rule)`,
      quantity: `${round(wcuBatched, 2)} WCU per event of ${batched?.payloadBytes ?? '?'} B${single === undefined ? '' : ` (${round(single.writeUnitsPerEvent, 2)} one at a time); about 6.2 for 1 KB payloads (docs/event-log.md)`}`,
      unitPrice: '$0.625 per million WCU',
      dollars: 1e6 * wcuBatched * PRICES.dynamoPerWriteUnit,
      per: 'per million events published',
    },
    {
      item: `Writer Lambda requests (one per SQS batch of ${writerBatchSize})`,
      quantity: `${(1e6 / writerBatchSize).toLocaleString('en-US')} invocations (duration not measured here)`,
      unitPrice: '$0.20 per million',
      dollars: (1e6 / writerBatchSize) * PRICES.lambdaPerRequest,
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

  const nodeChannelReadsPerSecond =
    (nodeIdle?.readsPerSecond ?? Number.NaN) / (nodeIdle?.channels ?? 1);
  const nodeChannelHour = nodeChannelReadsPerSecond * 3600 * 0.5 * PRICES.dynamoPerReadUnit;
  rows.push({
    item: 'Node adapter (self-hosted): DynamoDB reads per idle channel (measured)',
    quantity: `${round(nodeChannelReadsPerSecond * 3600)} Query = ${round(nodeChannelReadsPerSecond * 1800)} RCU, whatever the number of subscribers`,
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
