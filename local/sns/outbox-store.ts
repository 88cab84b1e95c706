/**
 * Where published messages wait for delivery: the {@link OutboxStore} port, its
 * DynamoDB table and an in-memory stand-in.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { sleep } from '../../functions/core/backoff.js';
import { ensureTable } from '../tables.js';
import { outboxTableDefinition } from './outbox-table.js';
import type { NotificationFields } from './sns-envelope.js';
import type { EnvelopeAttribute } from './validate.js';

/** One published message waiting for delivery. */
export interface OutboxMessage {
  /** Time-ordered: sorting ids sorts messages in publish order. */
  readonly id: string;
  /** The id of the SQS-shaped record it is delivered as: the same on every redelivery. */
  readonly sqsMessageId: string;
  /**
   * Messages of one group are delivered in order, and a failed one holds back the later
   * ones of its group: `channel:<name>` for a message with a String `channel` attribute,
   * else a group of its own (the writer will reject it; it holds nothing back).
   */
  readonly group: string;
  readonly notification: NotificationFields;
}

export interface OutboxPage {
  readonly messages: OutboxMessage[];
  /** Pass as `after` to read on; `undefined` when the outbox has nothing after this page. */
  readonly next: string | undefined;
}

/** Where pending messages wait. {@link OutboxTable} on DynamoDB; {@link MemoryOutbox} in tests. */
export interface OutboxStore {
  /** Stores all or none of `messages`; resolves once they are durable. */
  add(messages: readonly OutboxMessage[]): Promise<void>;
  /** Up to `limit` messages with ids above `after`, in id order. */
  read(options: {
    readonly limit: number;
    readonly after?: string | undefined;
  }): Promise<OutboxPage>;
  /** The messages with these ids that are still stored (read consistently), in any order. */
  get(ids: readonly string[]): Promise<OutboxMessage[]>;
  remove(ids: readonly string[]): Promise<void>;
}

const QUEUE = 'pending';
/** DynamoDB's limit of requests per BatchWriteItem. */
const BATCH_WRITE_LIMIT = 25;
/** DynamoDB's limit of keys per BatchGetItem. */
const BATCH_GET_LIMIT = 100;
/** Rounds of unprocessed keys or requests retried before a batch call gives up. */
const BATCH_ATTEMPTS = 5;

function s(value: string): AttributeValue {
  return { S: value };
}

function toItem(message: OutboxMessage): Record<string, AttributeValue> {
  const n = message.notification;
  return {
    queue: s(QUEUE),
    id: s(message.id),
    sqsMessageId: s(message.sqsMessageId),
    group: s(message.group),
    messageId: s(n.messageId),
    topicArn: s(n.topicArn),
    message: s(n.message),
    timestamp: s(n.timestamp),
    attributes: s(JSON.stringify(n.attributes ?? {})),
    ...(n.subject !== undefined && { subject: s(n.subject) }),
    ...(n.sequenceNumber !== undefined && { sequenceNumber: s(n.sequenceNumber) }),
  };
}

function parseAttributes(text: string | undefined): Record<string, EnvelopeAttribute> {
  try {
    const parsed: unknown = JSON.parse(text ?? '{}');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, EnvelopeAttribute>;
    }
  } catch {
    // Fall through: deliver without attributes; the writer dead-letters it with a reason.
  }
  return {};
}

/** Tolerant on purpose: an item that lost a field is still delivered (and rejected), never stuck. */
function fromItem(item: Record<string, AttributeValue>): OutboxMessage {
  const text = (name: string) => item[name]?.S;
  const id = text('id') ?? '';
  return {
    id,
    sqsMessageId: text('sqsMessageId') ?? id,
    group: text('group') ?? `message:${id}`,
    notification: {
      messageId: text('messageId') ?? id,
      topicArn: text('topicArn') ?? '',
      message: text('message') ?? '',
      subject: text('subject'),
      timestamp: text('timestamp') ?? new Date(0).toISOString(),
      attributes: parseAttributes(text('attributes')),
      sequenceNumber: text('sequenceNumber'),
    },
  };
}

/**
 * What every read of the outbox asks: the pending queue, read consistently so that no
 * stored message is missed.
 */
function pendingQuery(tableName: string): QueryCommandInput {
  return {
    TableName: tableName,
    KeyConditionExpression: '#queue = :queue',
    ExpressionAttributeNames: { '#queue': 'queue' },
    ExpressionAttributeValues: { ':queue': s(QUEUE) },
    ConsistentRead: true,
  };
}

/** The outbox in a DynamoDB table (`<prefix>-outbox` in the local stack). */
export class OutboxTable implements OutboxStore {
  readonly #client: DynamoDBClient;
  readonly tableName: string;

  constructor(options: { readonly client: DynamoDBClient; readonly tableName: string }) {
    this.#client = options.client;
    this.tableName = options.tableName;
  }

  /** Creates this table unless it exists, and waits until it is usable. */
  ensure(): Promise<void> {
    return ensureTable(this.#client, outboxTableDefinition(this.tableName));
  }

  async add(messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const [only] = messages;
    if (messages.length === 1 && only !== undefined) {
      await this.#client.send(
        new PutItemCommand({ TableName: this.tableName, Item: toItem(only) }),
      );
      return;
    }
    // One transaction: a PublishBatch is stored whole or not at all, so an error answer
    // (which the SDK retries) never leaves half of it to be published twice.
    await this.#client.send(
      new TransactWriteItemsCommand({
        TransactItems: messages.map((m) => ({
          Put: { TableName: this.tableName, Item: toItem(m) },
        })),
      }),
    );
  }

  async read(options: {
    readonly limit: number;
    readonly after?: string | undefined;
  }): Promise<OutboxPage> {
    const page = await this.#client.send(
      new QueryCommand({
        ...pendingQuery(this.tableName),
        Limit: options.limit,
        ...(options.after !== undefined && {
          ExclusiveStartKey: { queue: s(QUEUE), id: s(options.after) },
        }),
      }),
    );
    const messages = (page.Items ?? []).map(fromItem);
    return {
      messages,
      next: page.LastEvaluatedKey === undefined ? undefined : page.LastEvaluatedKey.id?.S,
    };
  }

  async get(ids: readonly string[]): Promise<OutboxMessage[]> {
    const found: OutboxMessage[] = [];
    for (let start = 0; start < ids.length; start += BATCH_GET_LIMIT) {
      let keys: Record<string, AttributeValue>[] = ids
        .slice(start, start + BATCH_GET_LIMIT)
        .map((id) => ({ queue: s(QUEUE), id: s(id) }));
      for (let attempt = 0; keys.length > 0; attempt += 1) {
        if (attempt === BATCH_ATTEMPTS)
          throw new Error(`outbox: ${keys.length} reads left unprocessed`);
        if (attempt > 0) await sleep(50 * 2 ** attempt);
        const result = await this.#client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        found.push(...(result.Responses?.[this.tableName] ?? []).map(fromItem));
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }

  async remove(ids: readonly string[]): Promise<void> {
    for (let start = 0; start < ids.length; start += BATCH_WRITE_LIMIT) {
      let requests: { DeleteRequest: { Key: Record<string, AttributeValue> } }[] = ids
        .slice(start, start + BATCH_WRITE_LIMIT)
        .map((id) => ({ DeleteRequest: { Key: { queue: s(QUEUE), id: s(id) } } }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt === BATCH_ATTEMPTS) {
          throw new Error(`outbox: ${requests.length} deletes left unprocessed`);
        }
        if (attempt > 0) await sleep(50 * 2 ** attempt);
        const result = await this.#client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (result.UnprocessedItems?.[this.tableName] ?? []).flatMap((r) =>
          r.DeleteRequest?.Key === undefined
            ? []
            : [{ DeleteRequest: { Key: r.DeleteRequest.Key } }],
        );
      }
    }
  }

  /** The newest pending id, to seed {@link OutboxIds.observe} after a restart. */
  async lastId(): Promise<string | undefined> {
    const page = await this.#client.send(
      new QueryCommand({
        ...pendingQuery(this.tableName),
        ScanIndexForward: false,
        Limit: 1,
        ProjectionExpression: 'id',
      }),
    );
    return page.Items?.[0]?.id?.S;
  }
}

/** An outbox in memory: for tests, and for anything that may lose pending messages. */
export class MemoryOutbox implements OutboxStore {
  readonly #messages = new Map<string, OutboxMessage>();

  get size(): number {
    return this.#messages.size;
  }

  async add(messages: readonly OutboxMessage[]): Promise<void> {
    for (const message of messages) this.#messages.set(message.id, message);
  }

  async read(options: {
    readonly limit: number;
    readonly after?: string | undefined;
  }): Promise<OutboxPage> {
    const { after, limit } = options;
    const ids = [...this.#messages.keys()].filter((id) => after === undefined || id > after).sort();
    const taken = ids.slice(0, limit);
    const last = taken.at(-1);
    return {
      messages: taken.flatMap((id) => this.#messages.get(id) ?? []),
      next: ids.length > limit ? last : undefined,
    };
  }

  async get(ids: readonly string[]): Promise<OutboxMessage[]> {
    return ids.flatMap((id) => this.#messages.get(id) ?? []);
  }

  async remove(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.#messages.delete(id);
  }
}
