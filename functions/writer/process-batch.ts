import { MAX_PAYLOAD_BYTES, type ValidMessage, validateMessage } from '../core/contract.js';
import { AppendFailedError, type EventLog, type NewEvent } from '../core/event-log.js';
import type { Log } from '../core/log.js';
import { describeError } from '../core/log.js';
import type { DeadLetterSink, QueueRecord, Rejection, WriterMetrics } from './ports.js';
import { parseSnsEnvelope } from './sns-envelope.js';

export interface WriterDependencies {
  readonly eventLog: EventLog;
  readonly deadLetters: DeadLetterSink;
  readonly log: Log;
  readonly metrics: WriterMetrics;
  /** @default MAX_PAYLOAD_BYTES */
  readonly maxPayloadBytes?: number;
}

export interface BatchResult {
  /** SQS message ids to hand back to the queue for another try, in batch order. */
  readonly failedMessageIds: string[];
  /**
   * The channels this batch stored new events on, in batch order (duplicates alone do not
   * count): what a host running the writer in-process nudges its pollers for.
   */
  readonly appendedChannels: string[];
}

interface Accepted {
  readonly record: QueueRecord;
  readonly message: ValidMessage;
  readonly event: NewEvent;
}

/**
 * The dedupe key stored for a message: the publisher's dedupeId when given, else the
 * SNS MessageId (the same on every redelivery of one publish). The prefixes keep a
 * dedupeId that happens to equal some MessageId from colliding with it.
 */
export function dedupeKeyOf(dedupeId: string | undefined, snsMessageId: string): string {
  return dedupeId === undefined ? `sns:${snsMessageId}` : `id:${dedupeId}`;
}

function check(
  record: QueueRecord,
  maxPayloadBytes: number,
): { ok: true; accepted: Accepted } | { ok: false; rejection: Rejection } {
  const envelope = parseSnsEnvelope(record.body);
  if (!envelope.ok) return { ok: false, rejection: envelope };
  const { messageId, message } = envelope.notification;
  const validation = validateMessage(message, maxPayloadBytes);
  if (!validation.ok) return { ok: false, rejection: validation.violation };
  const valid = validation.message;
  return {
    ok: true,
    accepted: {
      record,
      message: valid,
      event: {
        event: valid.event,
        data: valid.data,
        dedupeKey: dedupeKeyOf(valid.dedupeId, messageId),
      },
    },
  };
}

/**
 * Stores one SQS batch of SNS notifications.
 *
 * - A message that breaks the contract is sent to the dead-letter sink with its reason,
 *   logged and counted, and then counts as handled: it never blocks valid messages and
 *   is never retried. If the sink itself fails, the message is handed back to the
 *   queue, whose redrive policy still ends in the dead-letter queue.
 * - Valid messages are grouped by channel, keeping batch order within a channel, and
 *   each channel's group is appended in one call, the channels in parallel.
 * - When a channel's append stops part way, the events not stored and every later one
 *   of that channel are handed back, so a channel's order survives the retry (this is
 *   also what SQS FIFO asks of a message group). Redelivering stored ones is harmless:
 *   the event log dedupes them.
 */
export async function processBatch(
  records: readonly QueueRecord[],
  deps: WriterDependencies,
): Promise<BatchResult> {
  const maxPayloadBytes = deps.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  const failed = new Set<string>();
  const byChannel = new Map<string, Accepted[]>();
  const rejections: Promise<void>[] = [];

  for (const record of records) {
    const result = check(record, maxPayloadBytes);
    if (result.ok) {
      const { channel } = result.accepted.message;
      const group = byChannel.get(channel) ?? [];
      group.push(result.accepted);
      byChannel.set(channel, group);
    } else {
      rejections.push(reject(record, result.rejection, deps, failed));
    }
  }

  const appends = [...byChannel].map(([channel, group]) =>
    appendGroup(channel, group, deps, failed),
  );
  const [, stored] = await Promise.all([Promise.all(rejections), Promise.all(appends)]);

  return {
    failedMessageIds: records.map((r) => r.messageId).filter((id) => failed.has(id)),
    appendedChannels: [...byChannel.keys()].filter((_, i) => (stored[i] ?? 0) > 0),
  };
}

async function reject(
  record: QueueRecord,
  rejection: Rejection,
  deps: WriterDependencies,
  failed: Set<string>,
): Promise<void> {
  deps.log.error('message rejected', {
    reason: rejection.code,
    field: rejection.field,
    detail: rejection.message,
    sqsMessageId: record.messageId,
  });
  deps.metrics.rejected(rejection.code);
  try {
    await deps.deadLetters.send(record, rejection);
  } catch (error) {
    failed.add(record.messageId);
    deps.log.error('dead-letter send failed; message returned to the queue', {
      sqsMessageId: record.messageId,
      error: describeError(error),
    });
  }
}

async function appendGroup(
  channel: string,
  group: readonly Accepted[],
  deps: WriterDependencies,
  failed: Set<string>,
): Promise<number> {
  try {
    const outcomes = await deps.eventLog.append(
      channel,
      group.map((a) => a.event),
    );
    const duplicates = outcomes.filter((o) => o.duplicate).length;
    deps.metrics.appended(outcomes.length - duplicates);
    if (duplicates > 0) deps.metrics.duplicates(duplicates);
    deps.log.info('events appended', {
      channel,
      count: outcomes.length,
      duplicates,
      positions: outcomes.map((o) => o.position),
    });
    return outcomes.length - duplicates;
  } catch (error) {
    const stored = error instanceof AppendFailedError ? error.stored : 0;
    const unstored = group.slice(stored);
    for (const accepted of unstored) failed.add(accepted.record.messageId);
    if (stored > 0) deps.metrics.appended(stored);
    deps.metrics.failed(unstored.length);
    deps.log.error('append failed; messages returned to the queue', {
      channel,
      stored,
      returned: unstored.length,
      sqsMessageIds: unstored.map((a) => a.record.messageId),
      error: describeError(error),
    });
    return stored;
  }
}
