/**
 * Pure mapping from a validated message to what SNS `Publish` / `PublishBatch` take.
 * No I/O and no validation here: `publisher.ts` validates with the shared contract first.
 */
import { createHash } from 'node:crypto';
import type {
  MessageAttributeValue,
  PublishBatchRequestEntry,
  PublishInput,
} from '@aws-sdk/client-sns';

/**
 * A message that passed the contract, with `event` and `dedupeId` exactly as the caller
 * gave them (`undefined` when not given: the writer applies the default event name, so
 * the SDK does not send one the caller did not ask for).
 */
export interface OutgoingMessage {
  readonly channel: string;
  readonly data: string;
  readonly event: string | undefined;
  readonly dedupeId: string | undefined;
}

/** SNS FIFO topics are the ones whose name ends in `.fifo`; nothing else tells them apart. */
export function isFifoTopicArn(topicArn: string): boolean {
  return topicArn.endsWith('.fifo');
}

/** The message attributes the writer reads: `channel` always, `event`/`dedupeId` when given. */
export function messageAttributes(message: OutgoingMessage): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {
    channel: { DataType: 'String', StringValue: message.channel },
  };
  if (message.event !== undefined) {
    attributes.event = { DataType: 'String', StringValue: message.event };
  }
  if (message.dedupeId !== undefined) {
    attributes.dedupeId = { DataType: 'String', StringValue: message.dedupeId };
  }
  return attributes;
}

const encoder = new TextEncoder();

function utf8Bytes(text: string): number {
  return encoder.encode(text).byteLength;
}

/**
 * The size SNS counts against its 256 KiB limit: the message body plus, for each
 * attribute, the UTF-8 bytes of its name, its data type and its value. A batch's
 * total is the sum of its entries' sizes.
 */
export function snsMessageSize(
  data: string,
  attributes: Readonly<Record<string, MessageAttributeValue>>,
): number {
  let size = utf8Bytes(data);
  for (const [name, value] of Object.entries(attributes)) {
    size += utf8Bytes(name) + utf8Bytes(value.DataType ?? '') + utf8Bytes(value.StringValue ?? '');
  }
  return size;
}

/** What SNS accepts as a `MessageDeduplicationId`: 1–128 printable ASCII characters, no space. */
const SNS_DEDUPLICATION_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * Separates channel from dedupe id in a FIFO deduplication id. Channel names cannot
 * contain `#` (contract: `[A-Za-z0-9._:/@-]`), so the first `#` always ends the channel
 * and two different (channel, dedupeId) pairs never give the same text.
 */
const SCOPE_SEPARATOR = '#';

/**
 * The `MessageDeduplicationId` for a FIFO publish that carries a `dedupeId`.
 *
 * Why the channel is part of it: the contract deduplicates on channel + dedupeId, but a
 * FIFO topic with the default `FifoThroughputScope=Topic` deduplicates on the id alone
 * across the whole topic, and a duplicate is *accepted and not delivered*. Sending the
 * bare dedupeId would silently drop `orders`/`42` after `invoices`/`42`.
 *
 * `${channel}#${dedupeId}` when that is 1–128 printable ASCII characters (readable in the
 * console); otherwise the lowercase SHA-256 hex (64 characters) of its UTF-8 bytes, which
 * is still deterministic, so a retry of the same message is still a duplicate. A hash
 * never contains `#`, so it cannot collide with an unhashed id.
 */
export function fifoDeduplicationId(channel: string, dedupeId: string): string {
  const scoped = `${channel}${SCOPE_SEPARATOR}${dedupeId}`;
  if (SNS_DEDUPLICATION_ID.test(scoped)) return scoped;
  return createHash('sha256').update(scoped, 'utf8').digest('hex');
}

/**
 * The FIFO-only fields: the channel is the message group, so SNS keeps publish order per
 * channel and channels do not hold each other up; the deduplication id is derived from
 * `dedupeId` or, without one, random (meaning "never a duplicate", as on standard topics
 * where the SNS MessageId is the dedupe key). Content-based deduplication is never relied
 * on: two equal payloads on one channel are two events.
 */
function fifoFields(
  message: OutgoingMessage,
  randomId: () => string,
): { MessageGroupId: string; MessageDeduplicationId: string } {
  return {
    MessageGroupId: message.channel,
    MessageDeduplicationId:
      message.dedupeId === undefined
        ? randomId()
        : fifoDeduplicationId(message.channel, message.dedupeId),
  };
}

/** The `PublishCommand` input for one message. */
export function toPublishInput(
  topicArn: string,
  message: OutgoingMessage,
  randomId: () => string,
): PublishInput {
  const input: PublishInput = {
    TopicArn: topicArn,
    Message: message.data,
    MessageAttributes: messageAttributes(message),
  };
  return isFifoTopicArn(topicArn) ? { ...input, ...fifoFields(message, randomId) } : input;
}

/** One `PublishBatchCommand` entry; `id` must be unique within the request. */
export function toBatchEntry(
  id: string,
  topicArn: string,
  message: OutgoingMessage,
  randomId: () => string,
): PublishBatchRequestEntry {
  const entry: PublishBatchRequestEntry = {
    Id: id,
    Message: message.data,
    MessageAttributes: messageAttributes(message),
  };
  return isFifoTopicArn(topicArn) ? { ...entry, ...fifoFields(message, randomId) } : entry;
}
