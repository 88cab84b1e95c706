import { randomUUID } from 'node:crypto';
import {
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  PublishCommand,
  SNSClient,
  type SNSClientConfig,
} from '@aws-sdk/client-sns';
import { MAX_PAYLOAD_BYTES, type Violation, validateMessage } from '../functions/core/contract.js';
import { InvalidMessageError, PublisherConfigError } from './errors.js';
import {
  isFifoTopicArn,
  messageAttributes,
  type OutgoingMessage,
  snsMessageSize,
  toBatchEntry,
  toPublishInput,
} from './sns-input.js';

/** Options of {@link createPublisher}. */
export interface PublisherOptions {
  /**
   * The SNS topic the product's writer subscribes to (stack output, or the ARN the local
   * stack prints). A name ending in `.fifo` makes the publisher send FIFO fields.
   */
  readonly topicArn: string;
  /** An SNS client to reuse (shared connection pool, custom middleware, a test mock). */
  readonly client?: SNSClient | undefined;
  /** Configuration for a client the publisher creates; e.g. `{ endpoint }` for the local stack. */
  readonly clientConfig?: SNSClientConfig | undefined;
  /**
   * The largest `data` accepted, in UTF-8 bytes (default and maximum 262144, SNS's limit).
   * Set it to the writer's configured limit if that is lower, so the refusal happens here.
   */
  readonly maxPayloadBytes?: number | undefined;
}

/** Optional attributes of one published event. */
export interface PublishOptions {
  /** Event name; absent means the contract's default, `message`. */
  readonly event?: string | undefined;
  /** Publishing twice with the same channel + dedupeId stores the event once. */
  readonly dedupeId?: string | undefined;
}

/** What SNS answered for one accepted message. */
export interface PublishResult {
  readonly messageId: string;
  /** Only on FIFO topics: SNS's per-group sequence number. */
  readonly sequenceNumber?: string;
}

/** One entry of {@link Publisher.publishBatch}. */
export interface BatchEntry extends PublishOptions {
  readonly channel: string;
  readonly data: string;
}

export interface BatchSuccess extends PublishResult {
  /** Position of the entry in the array given to `publishBatch`. */
  readonly index: number;
}

export interface BatchFailure {
  /** Position of the entry in the array given to `publishBatch`. */
  readonly index: number;
  /** SNS's error code, e.g. `InternalError`, `KMSThrottling`. */
  readonly code: string;
  readonly message: string;
  /** `true`: the request was wrong and retrying it as-is will fail again. */
  readonly senderFault: boolean;
}

export interface BatchResult {
  /** Accepted entries, in index order. */
  readonly successful: BatchSuccess[];
  /** Entries SNS refused, in index order. Nothing of these was published. */
  readonly failed: BatchFailure[];
}

/** A publisher bound to one topic. See {@link createPublisher}. */
export interface Publisher {
  readonly topicArn: string;
  /** Whether the topic is FIFO (its name ends in `.fifo`). */
  readonly fifo: boolean;
  /**
   * Publishes one event to `channel`. Validates first and throws
   * {@link InvalidMessageError} without calling SNS if the message breaks the contract.
   * An SDK error (network, throttling, permissions) is thrown as the SDK threw it.
   */
  publish(channel: string, data: string, options?: PublishOptions): Promise<PublishResult>;
  /**
   * Publishes many events with as few SNS calls as the limits allow (10 entries and
   * 256 KiB per call), in array order, one call after another (so FIFO order per channel
   * holds across calls). Every entry is validated before the first call: one bad entry
   * throws {@link InvalidMessageError} (with its `index`) and nothing is sent.
   *
   * SNS can refuse single entries (`failed`, with the caller's index); check it. If an
   * SNS call throws, the error propagates and later chunks are not sent, but earlier
   * chunks were already published: retry with `dedupeId`s to make the retry harmless.
   */
  publishBatch(entries: readonly BatchEntry[]): Promise<BatchResult>;
}

/** SNS's `PublishBatch` limits: entries per request and total bytes per request. */
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = MAX_PAYLOAD_BYTES;

/**
 * `arn:<partition>:sns:<region>:<12-digit account>:<topic>`; topic names are 1–256
 * letters, digits, `-` and `_`, with `.fifo` at the end of FIFO topics.
 */
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:([A-Za-z0-9_-]+(?:\.fifo)?)$/;
const MAX_TOPIC_NAME_LENGTH = 256;

/** Shows a bad value in an error message, short enough not to flood a log. */
function show(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  }
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function checkTopicArn(topicArn: unknown): string {
  const name = typeof topicArn === 'string' ? TOPIC_ARN.exec(topicArn)?.[1] : undefined;
  if (name === undefined || name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new PublisherConfigError(
      'INVALID_TOPIC_ARN',
      'topicArn',
      `topicArn ${show(topicArn)} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)`,
    );
  }
  return topicArn as string;
}

function checkMaxPayloadBytes(value: unknown): number {
  if (value === undefined) return MAX_PAYLOAD_BYTES;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_PAYLOAD_BYTES) {
    throw new PublisherConfigError(
      'INVALID_MAX_PAYLOAD_BYTES',
      'maxPayloadBytes',
      `maxPayloadBytes ${show(value)} must be an integer from 1 to ${MAX_PAYLOAD_BYTES} (SNS's limit)`,
    );
  }
  return value as number;
}

/** A message ready to send: the validated fields, its attributes' size included. */
interface Prepared {
  readonly message: OutgoingMessage;
  readonly size: number;
}

/**
 * Validates one message with the shared contract, after the type checks the contract
 * leaves to TypeScript (a JavaScript caller can pass anything, and `null` or a number
 * would otherwise be coerced to text by the patterns). Returns the violation, not an
 * error, so the batch path can attach the index.
 */
function prepare(
  channel: unknown,
  data: unknown,
  event: unknown,
  dedupeId: unknown,
  maxPayloadBytes: number,
): Prepared | Violation {
  if (channel !== undefined && channel !== null && typeof channel !== 'string') {
    return {
      code: 'INVALID_CHANNEL',
      field: 'channel',
      message: `channel must be a string (got ${show(channel)})`,
    };
  }
  if (event !== undefined && typeof event !== 'string') {
    return {
      code: 'INVALID_EVENT_NAME',
      field: 'event',
      message: `event must be a string when given (got ${show(event)})`,
    };
  }
  if (dedupeId !== undefined && typeof dedupeId !== 'string') {
    return {
      code: 'INVALID_DEDUPE_ID',
      field: 'dedupeId',
      message: `dedupeId must be a string when given (got ${show(dedupeId)})`,
    };
  }
  if (typeof data !== 'string') {
    return {
      code: 'INVALID_PAYLOAD',
      field: 'data',
      message: `data must be a string (got ${show(data)}); serialize it first, e.g. JSON.stringify(value)`,
    };
  }
  const result = validateMessage(
    { channel: channel ?? undefined, event, dedupeId, data },
    maxPayloadBytes,
  );
  if (!result.ok) {
    const { violation } = result;
    // The contract's messages quote bad channels and event names; add the value where
    // they do not. Payloads are not echoed: they can be large or sensitive.
    if (violation.code === 'MISSING_CHANNEL') {
      return { ...violation, message: `${violation.message} (got ${show(channel)})` };
    }
    if (violation.code === 'INVALID_DEDUPE_ID') {
      return { ...violation, message: `${violation.message} (got ${show(dedupeId)})` };
    }
    return violation;
  }
  const message: OutgoingMessage = { channel: result.message.channel, data, event, dedupeId };
  const attributes = messageAttributes(message);
  const size = snsMessageSize(data, attributes);
  if (size > MAX_PAYLOAD_BYTES) {
    const dataBytes = snsMessageSize(data, {});
    return {
      code: 'PAYLOAD_TOO_LARGE',
      field: 'data',
      message:
        `message is ${size} bytes with its attributes (data ${dataBytes} + attributes ` +
        `${size - dataBytes}); SNS accepts at most ${MAX_PAYLOAD_BYTES} bytes`,
    };
  }
  return { message, size };
}

function isViolation(value: Prepared | Violation): value is Violation {
  return 'code' in value;
}

/** Splits prepared messages (with their original indexes) into SNS-sized requests. */
function chunk(prepared: readonly Prepared[]): { index: number; prepared: Prepared }[][] {
  const chunks: { index: number; prepared: Prepared }[][] = [];
  let current: { index: number; prepared: Prepared }[] = [];
  let bytes = 0;
  prepared.forEach((item, index) => {
    if (current.length === MAX_BATCH_ENTRIES || bytes + item.size > MAX_BATCH_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ index, prepared: item });
    bytes += item.size;
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function missingMessageId(): Error {
  return new Error('SNS answered without a MessageId; is the endpoint an SNS-compatible API?');
}

/**
 * Creates a publisher for one SNS topic: the supported way for a backend service to
 * publish events, with the contract checked at the call site instead of in the writer's
 * dead-letter queue.
 *
 * Give `client` (reuse one you have) or `clientConfig` (the publisher creates the client),
 * never both: {@link PublisherConfigError}. With neither, a default `SNSClient` uses the
 * usual AWS environment (region, credentials). A malformed `topicArn` or an out-of-range
 * `maxPayloadBytes` also throws {@link PublisherConfigError}, at creation.
 *
 * FIFO topics (ARN ending in `.fifo`): each message's group is its channel, so SNS keeps
 * publish order per channel; its deduplication id is derived from channel + `dedupeId`
 * (`fifoDeduplicationId`, exported) or random when there is no `dedupeId`.
 */
export function createPublisher(options: PublisherOptions): Publisher {
  const topicArn = checkTopicArn(options.topicArn);
  const maxPayloadBytes = checkMaxPayloadBytes(options.maxPayloadBytes);
  if (options.client !== undefined && options.clientConfig !== undefined) {
    throw new PublisherConfigError(
      'CONFLICTING_CLIENT_OPTIONS',
      'client',
      'give either client or clientConfig, not both (clientConfig would be ignored)',
    );
  }
  const client = options.client ?? new SNSClient(options.clientConfig ?? {});
  const fifo = isFifoTopicArn(topicArn);

  return {
    topicArn,
    fifo,

    async publish(channel, data, publishOptions) {
      const prepared = prepare(
        channel,
        data,
        publishOptions?.event,
        publishOptions?.dedupeId,
        maxPayloadBytes,
      );
      if (isViolation(prepared)) throw new InvalidMessageError(prepared);
      const response = await client.send(
        new PublishCommand(toPublishInput(topicArn, prepared.message, randomUUID)),
      );
      if (response.MessageId === undefined) throw missingMessageId();
      return response.SequenceNumber === undefined
        ? { messageId: response.MessageId }
        : { messageId: response.MessageId, sequenceNumber: response.SequenceNumber };
    },

    async publishBatch(entries) {
      if (!Array.isArray(entries)) {
        throw new TypeError(`publishBatch expects an array of entries (got ${show(entries)})`);
      }
      const prepared = entries.map((entry: unknown, index) => {
        if (typeof entry !== 'object' || entry === null) {
          throw new TypeError(`publishBatch entry ${index} must be an object (got ${show(entry)})`);
        }
        const { channel, data, event, dedupeId } = entry as Record<string, unknown>;
        const result = prepare(channel, data, event, dedupeId, maxPayloadBytes);
        if (isViolation(result)) throw new InvalidMessageError(result, index);
        return result;
      });

      const successful: BatchSuccess[] = [];
      const failed: BatchFailure[] = [];
      for (const requestEntries of chunk(prepared)) {
        const byId = new Map<string, number>();
        const batch: PublishBatchRequestEntry[] = requestEntries.map(({ index, prepared: p }) => {
          const id = String(index);
          byId.set(id, index);
          return toBatchEntry(id, topicArn, p.message, randomUUID);
        });
        const response = await client.send(
          new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: batch }),
        );
        for (const ok of response.Successful ?? []) {
          const index = ok.Id === undefined ? undefined : byId.get(ok.Id);
          if (index === undefined) continue;
          if (ok.MessageId === undefined) throw missingMessageId();
          byId.delete(ok.Id as string);
          successful.push(
            ok.SequenceNumber === undefined
              ? { index, messageId: ok.MessageId }
              : { index, messageId: ok.MessageId, sequenceNumber: ok.SequenceNumber },
          );
        }
        for (const bad of response.Failed ?? []) {
          const index = bad.Id === undefined ? undefined : byId.get(bad.Id);
          if (index === undefined) continue;
          byId.delete(bad.Id as string);
          failed.push({
            index,
            code: bad.Code ?? 'Unknown',
            message: bad.Message ?? '',
            senderFault: bad.SenderFault ?? false,
          });
        }
        // An entry SNS reported neither way must not look published.
        for (const index of byId.values()) {
          failed.push({
            index,
            code: 'MissingResult',
            message: 'SNS reported neither success nor failure for this entry',
            senderFault: false,
          });
        }
      }
      successful.sort((a, b) => a.index - b.index);
      failed.sort((a, b) => a.index - b.index);
      return { successful, failed };
    },
  };
}
