/**
 * Append throughput of {@link DynamoDBEventLog} on DynamoDB Local, called directly (no
 * SNS, no writer): concurrent writers append batches to one hot channel or spread over
 * many channels. Afterwards every channel is read back (strongly consistent) and checked:
 * positions 1..n with no gap, every acknowledged event exactly once (0 lost, 0
 * duplicated), each at the position its append reported. A redelivery of already stored
 * events must store nothing and report the original positions.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBEventLog } from '../functions/adapters/dynamodb/event-log.js';
import type { NewEvent } from '../functions/core/event-log.js';
import { countDynamoDB, diffCounts, requestsOf } from './lib/dynamodb-counter.js';
import { nowMs } from './lib/stats.js';

export interface AppendCase {
  readonly name: string;
  readonly channels: number;
  readonly writers: number;
  /** Events per `append` call (the writer Lambda groups an SQS batch by channel). */
  readonly batch: number;
  readonly events: number;
  /** Writers stop taking new batches after this long. */
  readonly maxSeconds: number;
}

export interface AppendResult extends AppendCase {
  readonly appended: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly transactions: number;
  /** Transactions DynamoDB cancelled (lost races, conflicts): retried by the log. */
  readonly cancelledTransactions: number;
  /** Write units of the committed transactions, by AWS's rule, per appended event. */
  readonly writeUnitsPerEvent: number;
  /** Write units of the cancelled transactions per appended event (billed on AWS too). */
  readonly cancelledWriteUnitsPerEvent: number;
  readonly payloadBytes: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly gaps: number;
  readonly misplaced: number;
  readonly failedAppends: number;
  readonly redelivery: {
    readonly sent: number;
    readonly reportedDuplicate: number;
    readonly samePosition: number;
    readonly storedAgain: number;
  };
}

const PAD = 'p'.repeat(160);

export async function measureAppend(
  endpoint: string,
  tableName: string,
  spec: AppendCase,
  prefix: string,
): Promise<AppendResult> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const counter = countDynamoDB(client);
  // Several writers on one channel lose races; give them room (docs/event-log.md).
  const log = new DynamoDBEventLog({
    client,
    tableName,
    maxAttempts: 100,
    backoff: { baseMs: 10, capMs: 400 },
  });
  const channelName = (i: number): string => `${prefix}-${i}`;
  const acked = new Map<number, { channel: string; position: number }>();
  const events = (first: number, count: number): NewEvent[] =>
    Array.from({ length: count }, (_, k) => ({
      event: 'message',
      data: JSON.stringify({ seq: first + k, pad: PAD }),
      dedupeKey: `e-${first + k}`,
    }));

  let nextSeq = 0;
  let batchNo = 0;
  let failedAppends = 0;
  const before = counter.snapshot();
  const start = nowMs();
  const deadline = start + spec.maxSeconds * 1000;
  const writer = async (): Promise<void> => {
    while (nextSeq < spec.events && nowMs() < deadline) {
      const first = nextSeq;
      const count = Math.min(spec.batch, spec.events - first);
      nextSeq += count;
      const channel = channelName(batchNo++ % spec.channels);
      const batch = events(first, count);
      for (let attempt = 1; ; attempt++) {
        try {
          const outcomes = await log.append(channel, batch);
          outcomes.forEach((o, k) => {
            acked.set(first + k, { channel, position: o.position });
          });
          break;
        } catch (error) {
          failedAppends += 1;
          // Appending the same events again is safe: their dedupe keys make it idempotent.
          if (attempt >= 5) throw error;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: spec.writers }, writer));
  const seconds = (nowMs() - start) / 1000;
  const used = diffCounts(before, counter.snapshot());

  // Read every channel back, strongly consistent, and check it.
  let lost = 0;
  let duplicated = 0;
  let gaps = 0;
  let misplaced = 0;
  const seen = new Map<number, number>();
  for (let i = 0; i < spec.channels; i++) {
    const channel = channelName(i);
    let after = 0;
    for (;;) {
      const page = await log.read(channel, after, { limit: 1000, consistent: true });
      if (page.length === 0) break;
      for (const event of page) {
        if (event.position !== after + 1) gaps += 1;
        after = event.position;
        const { seq } = JSON.parse(event.data) as { seq: number };
        seen.set(seq, (seen.get(seq) ?? 0) + 1);
        const ack = acked.get(seq);
        if (ack !== undefined && (ack.channel !== channel || ack.position !== event.position)) {
          misplaced += 1;
        }
      }
    }
  }
  for (const seq of acked.keys()) if (!seen.has(seq)) lost += 1;
  for (const count of seen.values()) if (count > 1) duplicated += count - 1;

  // Redelivery: the first stored batch of channel 0 once more.
  const sample = [...acked.entries()]
    .filter(([, a]) => a.channel === channelName(0))
    .slice(0, Math.min(spec.batch, 49));
  let reportedDuplicate = 0;
  let samePosition = 0;
  let storedAgain = 0;
  if (sample.length > 0) {
    const lengthBefore = (await log.retained(channelName(0))).last;
    const outcomes = await log.append(
      channelName(0),
      sample.map(([seq]) => ({
        event: 'message',
        data: JSON.stringify({ seq, pad: PAD }),
        dedupeKey: `e-${seq}`,
      })),
    );
    outcomes.forEach((o, k) => {
      if (o.duplicate) reportedDuplicate += 1;
      if (o.position === sample[k]?.[1].position) samePosition += 1;
    });
    storedAgain = (await log.retained(channelName(0))).last - lengthBefore;
  }
  client.destroy();

  const transactions = requestsOf(used, 'TransactWriteItems');
  return {
    ...spec,
    appended: acked.size,
    seconds,
    eventsPerSecond: acked.size / seconds,
    transactions,
    cancelledTransactions: used.byCommand.TransactWriteItemsCommand?.failures ?? 0,
    writeUnitsPerEvent: used.writeUnits / Math.max(1, acked.size),
    cancelledWriteUnitsPerEvent:
      (used.byCommand.TransactWriteItemsCommand?.failedWriteUnits ?? 0) / Math.max(1, acked.size),
    payloadBytes: Buffer.byteLength(JSON.stringify({ seq: 12345, pad: PAD })),
    lost,
    duplicated,
    gaps,
    misplaced,
    failedAppends,
    redelivery: { sent: sample.length, reportedDuplicate, samePosition, storedAgain },
  };
}
