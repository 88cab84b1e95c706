/**
 * Delivery rate of the local SNS endpoint's deliverer (local/sns/deliverer.ts) on DynamoDB
 * Local, with the real writer (processBatch over DynamoDBEventLog) and the local stack's
 * defaults (batches of 10, 5 in flight). A burst is published as the endpoint stores it:
 * PublishBatch-sized outbox writes of 10, 4 in flight, each handed to the deliverer. Half a
 * second in, one message is published to a quiet channel: how long it waits behind the
 * burst is the fairness figure. Then the same number of messages is left in the outbox
 * and a new deliverer drains it on start, which times delivery alone. Afterwards every
 * channel is read back: each must hold its messages once, in publish order.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBEventLog } from '../functions/adapters/dynamodb/event-log.js';
import { DEPLOYMENT_DEFAULTS } from '../functions/config/environment.js';
import type { Log } from '../functions/core/log.js';
import { processBatch } from '../functions/writer/process-batch.js';
import { DeadLetterMemory } from '../local/dead-letter-file.js';
import { Deliverer, outboxMessage } from '../local/sns/deliverer.js';
import { OutboxIds } from '../local/sns/outbox-ids.js';
import { type OutboxMessage, OutboxTable } from '../local/sns/outbox-store.js';
import { nowMs, sleep } from './lib/stats.js';

export interface LocalSnsCase {
  readonly name: string;
  /** Channels the backlog is spread over, round robin. */
  readonly channels: number;
  readonly events: number;
}

export interface LocalSnsResult extends LocalSnsCase {
  readonly batchSize: number;
  readonly concurrency: number;
  /** Of the live burst. */
  readonly delivered: number;
  /** From the burst's first publish until the last one was stored in the outbox. */
  readonly publishSeconds: number;
  /** From the burst's first publish until the last event was stored in the event log. */
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** From a deliverer's start until it had drained the burst left in the outbox. */
  readonly drainSeconds: number;
  readonly drainEventsPerSecond: number;
  readonly deliverCalls: number;
  /** From the quiet channel's publish to its event being stored in the event log. */
  readonly quietWaitMs: number;
  /** … of which its write to the outbox (DynamoDB Local, busy with the burst). */
  readonly quietStoreMs: number;
  /** Burst events stored but not yet delivered when the quiet one was published. */
  readonly backlogLeftAtQuiet: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
}

const PAD = 'p'.repeat(160);
const TOPIC = 'arn:aws:sns:us-east-1:000000000000:bench-local-sns';
const silent: Log = { info() {}, error() {} };

function channelMessage(ids: OutboxIds, channel: string, data: string): OutboxMessage {
  const messageId = randomUUID();
  const attributes = { channel: { Type: 'String', Value: channel } } as const;
  return outboxMessage(ids.next().id, randomUUID(), {
    messageId,
    topicArn: TOPIC,
    message: data,
    timestamp: new Date().toISOString(),
    attributes,
  });
}

export async function measureLocalSns(
  client: DynamoDBClient,
  tableName: string,
  spec: LocalSnsCase,
  prefix: string,
): Promise<LocalSnsResult> {
  const outbox = new OutboxTable({ client, tableName: `${tableName}-${prefix}-outbox` });
  await outbox.ensure();
  const eventLog = new DynamoDBEventLog({ client, tableName });
  const ids = new OutboxIds();
  const channel = (i: number): string => `${prefix}-${i}`;
  const quietChannel = `${prefix}-quiet`;

  const sent = new Map<string, number[]>();
  let seq = 0;
  const burst = (): OutboxMessage[] =>
    Array.from({ length: spec.events }, () => {
      const name = channel(seq % spec.channels);
      sent.set(name, [...(sent.get(name) ?? []), seq]);
      return channelMessage(ids, name, JSON.stringify({ seq: seq++, pad: PAD }));
    });

  let delivered = 0;
  let deliverCalls = 0;
  let quietStoredAt: number | undefined;
  const newDeliverer = (): Deliverer =>
    new Deliverer({
      outbox,
      log: silent,
      deliver: async (records) => {
        deliverCalls += 1;
        const result = await processBatch(records, {
          eventLog,
          deadLetters: new DeadLetterMemory(),
          log: silent,
          metrics: { rejected() {}, appended() {}, duplicates() {}, failed() {} },
        });
        delivered += records.length - result.failedMessageIds.length;
        if (result.appendedChannels.includes(quietChannel)) quietStoredAt ??= nowMs();
        return result;
      },
    });

  // Act 1: a live burst, and a quiet channel's message in the middle of it.
  const live = newDeliverer();
  live.start();
  // Every channel of the burst has had an event before: the burst meets busy channels, not new ones.
  for (let i = 0; i < spec.channels; i++) {
    const warm = channelMessage(ids, channel(i), JSON.stringify({ seq: -1, pad: PAD }));
    await outbox.add([warm]);
    live.enqueue([warm]);
  }
  await live.drained();
  delivered = 0;
  const messages = burst();
  const start = nowMs();
  let next = 0;
  const publisher = async (): Promise<void> => {
    while (next < messages.length) {
      const batch = messages.slice(next, next + 10);
      next += batch.length;
      const ticket = live.reserve(batch);
      await outbox.add(batch);
      ticket.stored();
    }
  };
  const publishing = Promise.all(Array.from({ length: 4 }, publisher));
  await sleep(500);
  const quiet = channelMessage(ids, quietChannel, JSON.stringify({ seq: -1, pad: PAD }));
  const backlogLeftAtQuiet = next - delivered;
  const quietPublishedAt = nowMs();
  const quietTicket = live.reserve([quiet]);
  await outbox.add([quiet]);
  const quietStoreMs = nowMs() - quietPublishedAt;
  quietTicket.stored();
  await publishing;
  const publishSeconds = (nowMs() - start) / 1000;
  await live.drained();
  const seconds = (nowMs() - start) / 1000;
  await live.stop();
  const liveDelivered = delivered - 1;

  // Act 2: the same burst left in the outbox, drained by a deliverer on start.
  const left = burst();
  for (let i = 0; i < left.length; i += 10) await outbox.add(left.slice(i, i + 10));
  delivered = 0;
  const drainStart = nowMs();
  const drainer = newDeliverer();
  drainer.start();
  await drainer.drained();
  const drainSeconds = (nowMs() - drainStart) / 1000;
  await drainer.stop();

  // Assess: every channel read back, strongly consistent.
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  for (const [name, seqs] of sent) {
    const got: number[] = [];
    for (;;) {
      const page = await eventLog.read(name, got.length, { limit: 1000, consistent: true });
      if (page.length === 0) break;
      got.push(...page.map((e) => (JSON.parse(e.data) as { seq: number }).seq));
    }
    const unique = new Set(got.filter((s) => s >= 0));
    duplicated += got.filter((s) => s >= 0).length - unique.size;
    lost += seqs.filter((s) => !unique.has(s)).length;
    const burstSeqs = got.filter((s) => s >= 0);
    for (let k = 1; k < burstSeqs.length; k++) {
      if ((burstSeqs[k] ?? 0) < (burstSeqs[k - 1] ?? 0)) outOfOrder += 1;
    }
  }
  return {
    ...spec,
    batchSize: DEPLOYMENT_DEFAULTS.writerBatchSize,
    concurrency: DEPLOYMENT_DEFAULTS.writerReservedConcurrency,
    delivered: liveDelivered,
    publishSeconds,
    seconds,
    eventsPerSecond: liveDelivered / seconds,
    drainSeconds,
    drainEventsPerSecond: delivered / drainSeconds,
    deliverCalls,
    quietWaitMs: (quietStoredAt ?? Number.NaN) - quietPublishedAt,
    quietStoreMs,
    backlogLeftAtQuiet,
    lost,
    duplicated,
    outOfOrder,
  };
}
