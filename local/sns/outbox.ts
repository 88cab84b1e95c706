/**
 * Durable, asynchronous delivery for the local SNS endpoint, standing in for SNS → SQS →
 * Lambda: `Publish` answers once the message is stored in the outbox, and a
 * {@link Deliverer} hands stored messages to the writer in publish order, retrying
 * failures with backoff, never dropping one, and draining on start whatever a previous
 * run left behind.
 *
 * The outbox is a DynamoDB table (DynamoDB Local keeps it on disk under `.data/` in the
 * local stack). Its key is (`queue`, `id`): `queue` is always `pending` and `id` a
 * time-ordered id. A table keyed by `id` alone could not be read in order (a Scan
 * returns items in hash order), so the constant partition key makes the ids a sort key
 * that a Query pages through in publish order.
 */
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { type BackoffOptions, backoffCeiling } from '../../functions/core/backoff.js';
import type { Log } from '../../functions/core/log.js';
import { buildSnsEnvelope, type NotificationFields } from './sns-envelope.js';
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

/** An SQS record as the writer reads it (functions/writer/process-batch.ts `QueueRecord`). */
export interface DeliveryRecord {
  readonly messageId: string;
  /** The SNS notification envelope JSON. */
  readonly body: string;
}

/** Hands records to the writer; returns the ids to retry, as the writer Lambda does. */
export type Deliver = (
  records: DeliveryRecord[],
) => Promise<{ readonly failedMessageIds: readonly string[] }>;

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
  remove(ids: readonly string[]): Promise<void>;
}

const stderrLog: Log = {
  info: () => {},
  error: (message, fields) => console.error(`local SNS: ${message} ${JSON.stringify(fields)}`),
};

/** The group of a message: its channel, so that a channel's events stay in order. */
export function deliveryGroup(
  attributes: Readonly<Record<string, EnvelopeAttribute>>,
  messageId: string,
): string {
  const channel = attributes.channel;
  return channel?.Type === 'String' ? `channel:${channel.Value}` : `message:${messageId}`;
}

/** The SQS-shaped record a stored message is delivered as. */
export function toDeliveryRecord(message: OutboxMessage): DeliveryRecord {
  return { messageId: message.sqsMessageId, body: buildSnsEnvelope(message.notification) };
}

/**
 * Makes outbox ids, `<ms, 15 digits>-<counter, 6 digits>-<uuid>`, strictly increasing
 * within a process even if the clock steps back, and the matching FIFO sequence numbers
 * (`<ms><counter>`, 20 digits). {@link observe} an existing id (say, a leftover of the
 * last run) to never go below it.
 */
export class OutboxIds {
  #lastMs = 0;
  #counter = 0;
  readonly #now: () => number;
  readonly #uuid: () => string;

  constructor(now: () => number = Date.now, uuid: () => string = randomUUID) {
    this.#now = now;
    this.#uuid = uuid;
  }

  next(): { id: string; sequenceNumber: string } {
    const now = Math.floor(this.#now());
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#counter = 0;
    } else {
      this.#counter += 1;
      if (this.#counter > 999_999) {
        this.#lastMs += 1;
        this.#counter = 0;
      }
    }
    const ms = String(this.#lastMs);
    const counter = String(this.#counter).padStart(6, '0');
    return {
      id: `${ms.padStart(15, '0')}-${counter}-${this.#uuid()}`,
      sequenceNumber: `${ms.padStart(14, '0')}${counter}`,
    };
  }

  observe(id: string): void {
    const match = /^(\d{15})-(\d{6})-/.exec(id);
    if (match === null) return;
    const ms = Number(match[1]);
    const counter = Number(match[2]);
    if (ms > this.#lastMs || (ms === this.#lastMs && counter > this.#counter)) {
      this.#lastMs = ms;
      this.#counter = counter;
    }
  }
}

const QUEUE = 'pending';
/** DynamoDB's limit of requests per BatchWriteItem. */
const BATCH_WRITE_LIMIT = 25;

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

/** The outbox table's layout. */
export function outboxTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'queue', AttributeType: 'S' },
      { AttributeName: 'id', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'queue', KeyType: 'HASH' },
      { AttributeName: 'id', KeyType: 'RANGE' },
    ],
  };
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The outbox in a DynamoDB table (`<prefix>-outbox` in the local stack). */
export class OutboxTable implements OutboxStore {
  readonly #client: DynamoDBClient;
  readonly tableName: string;

  constructor(options: { readonly client: DynamoDBClient; readonly tableName: string }) {
    this.#client = options.client;
    this.tableName = options.tableName;
  }

  /** Creates the table unless it exists, and waits until it is usable. */
  async ensure(): Promise<void> {
    const status = async () =>
      (await this.#client.send(new DescribeTableCommand({ TableName: this.tableName }))).Table
        ?.TableStatus;
    try {
      if ((await status()) === 'ACTIVE') return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      try {
        await this.#client.send(new CreateTableCommand(outboxTableDefinition(this.tableName)));
      } catch (createError) {
        if (!(createError instanceof ResourceInUseException)) throw createError;
      }
    }
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if ((await status()) === 'ACTIVE') return;
      await pause(100);
    }
    throw new Error(`outbox table ${this.tableName} did not become ACTIVE`);
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
        TableName: this.tableName,
        KeyConditionExpression: '#queue = :queue',
        ExpressionAttributeNames: { '#queue': 'queue' },
        ExpressionAttributeValues: { ':queue': s(QUEUE) },
        ConsistentRead: true,
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

  async remove(ids: readonly string[]): Promise<void> {
    for (let start = 0; start < ids.length; start += BATCH_WRITE_LIMIT) {
      let requests: { DeleteRequest: { Key: Record<string, AttributeValue> } }[] = ids
        .slice(start, start + BATCH_WRITE_LIMIT)
        .map((id) => ({ DeleteRequest: { Key: { queue: s(QUEUE), id: s(id) } } }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt === 5) throw new Error(`outbox: ${requests.length} deletes left unprocessed`);
        if (attempt > 0) await pause(50 * 2 ** attempt);
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
        TableName: this.tableName,
        KeyConditionExpression: '#queue = :queue',
        ExpressionAttributeNames: { '#queue': 'queue' },
        ExpressionAttributeValues: { ':queue': s(QUEUE) },
        ConsistentRead: true,
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

  async remove(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.#messages.delete(id);
  }
}

export interface DelivererOptions {
  readonly outbox: Pick<OutboxStore, 'read' | 'remove'>;
  readonly deliver: Deliver;
  /** Records per `deliver` call. @default 10, the SQS batch size of the CDK stack */
  readonly batchSize?: number;
  /** Pending messages one round may look through for deliverable ones. @default 1000 */
  readonly lookahead?: number;
  /** Drain this often even if nothing says so (nothing should need it). @default 30 s */
  readonly safetyPollMs?: number;
  /** Retry pacing for a failed group or a failed outbox read. @default 250 ms doubling to 30 s */
  readonly retry?: BackoffOptions;
  /** @default errors on stderr */
  readonly log?: Log;
  readonly now?: () => number;
  readonly random?: () => number;
}

interface Blocked {
  attempts: number;
  until: number;
}

const PAGE_SIZE = 100;

/**
 * Delivers the outbox to the writer.
 *
 * - A round reads pending messages in id (publish) order and hands up to `batchSize` of
 *   them to `deliver` as SQS-shaped records, then removes the ones not reported failed.
 * - A failed message blocks its group (channel) with backoff: no later message of that
 *   group is delivered before it, so a channel's order survives retries, while other
 *   groups go on. If `deliver` throws, every record of the call counts as failed.
 * - Rounds run back to back while they make progress; then the deliverer sleeps until
 *   {@link notify} (every publish), the next retry, or the slow safety poll.
 * - {@link start} drains what a previous run left; {@link stop} clears every timer and
 *   waits for the round in flight.
 */
export class Deliverer {
  readonly #outbox: Pick<OutboxStore, 'read' | 'remove'>;
  readonly #deliver: Deliver;
  readonly #batchSize: number;
  readonly #lookahead: number;
  readonly #safetyPollMs: number;
  readonly #retry: BackoffOptions;
  readonly #log: Log;
  readonly #now: () => number;
  readonly #random: () => number;

  readonly #blocked = new Map<string, Blocked>();
  /** Delivered, but their removal failed: skip them and retry the removal. */
  readonly #unremoved = new Set<string>();
  #readFailures = 0;
  #readRetryAt = 0;
  #started = false;
  #stopped = false;
  #again = false;
  #draining: Promise<void> | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #emptyWaiters: (() => void)[] = [];

  constructor(options: DelivererOptions) {
    this.#outbox = options.outbox;
    this.#deliver = options.deliver;
    this.#batchSize = options.batchSize ?? 10;
    this.#lookahead = Math.max(options.lookahead ?? 1000, this.#batchSize);
    this.#safetyPollMs = options.safetyPollMs ?? 30_000;
    this.#retry = options.retry ?? { baseMs: 250, capMs: 30_000 };
    this.#log = options.log ?? stderrLog;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** Starts delivering, beginning with whatever the outbox holds already. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#armPoll();
    this.notify();
  }

  /** Something was stored: drain now (or right after the round in flight). */
  notify(): void {
    if (!this.#started || this.#stopped) return;
    if (this.#draining !== undefined) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drain();
  }

  /** Resolves once a round finds the outbox empty (or the deliverer stops). */
  drained(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.#emptyWaiters.push(resolve);
      this.notify();
    });
  }

  /** Stops: no timers remain, the round in flight finishes, pending messages stay stored. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#retryTimer);
    this.#pollTimer = undefined;
    this.#retryTimer = undefined;
    await this.#draining;
    for (const resolve of this.#emptyWaiters.splice(0)) resolve();
  }

  async #drain(): Promise<void> {
    try {
      let empty = false;
      do {
        this.#again = false;
        const outcome = await this.#safeRound();
        empty = outcome === 'empty';
        if (outcome === 'progress') this.#again = true;
      } while (this.#again && !this.#stopped);
      if (empty) for (const resolve of this.#emptyWaiters.splice(0)) resolve();
    } finally {
      this.#draining = undefined;
      this.#armRetry();
    }
  }

  async #safeRound(): Promise<'progress' | 'idle' | 'empty'> {
    if (this.#readFailures > 0 && this.#now() < this.#readRetryAt) return 'idle';
    try {
      const outcome = await this.#round();
      this.#readFailures = 0;
      return outcome;
    } catch (error) {
      this.#readFailures += 1;
      const delay = this.#delay(this.#readFailures);
      this.#readRetryAt = this.#now() + delay;
      this.#log.error('outbox read failed; will retry', { error: String(error), retryInMs: delay });
      return 'idle';
    }
  }

  async #round(): Promise<'progress' | 'idle' | 'empty'> {
    if (this.#unremoved.size > 0) {
      const ids = [...this.#unremoved];
      await this.#outbox.remove(ids);
      for (const id of ids) this.#unremoved.delete(id);
    }

    const now = this.#now();
    const batch = [];
    let scanned = 0;
    let after: string | undefined;
    while (batch.length < this.#batchSize && scanned < this.#lookahead) {
      // Messages can be 256 KiB each: read one batch's worth first, more only past blocked ones.
      const page = await this.#outbox.read({
        limit: Math.min(
          after === undefined ? this.#batchSize : PAGE_SIZE,
          this.#lookahead - scanned,
        ),
        after,
      });
      for (const message of page.messages) {
        scanned += 1;
        if (batch.length === this.#batchSize) break;
        const blocked = this.#blocked.get(message.group);
        if (blocked !== undefined && blocked.until > now) continue;
        batch.push(message);
      }
      if (page.next === undefined || page.messages.length === 0) break;
      after = page.next;
    }
    if (scanned === 0) {
      this.#blocked.clear();
      return 'empty';
    }
    if (batch.length === 0) return 'idle';

    const records = batch.map(toDeliveryRecord);
    let failedIds: ReadonlySet<string>;
    try {
      const result = await this.#deliver(records);
      failedIds = new Set(result.failedMessageIds);
    } catch (error) {
      this.#log.error('delivery to the writer failed', {
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        records: records.length,
      });
      failedIds = new Set(records.map((r) => r.messageId));
    }

    const delivered: string[] = [];
    const failedGroups = new Set<string>();
    for (const message of batch) {
      if (failedIds.has(message.sqsMessageId)) failedGroups.add(message.group);
      else delivered.push(message.id);
    }
    for (const message of batch) {
      if (failedGroups.has(message.group)) continue;
      this.#blocked.delete(message.group);
    }
    for (const group of failedGroups) {
      const attempts = (this.#blocked.get(group)?.attempts ?? 0) + 1;
      const delay = this.#delay(attempts);
      this.#blocked.set(group, { attempts, until: this.#now() + delay });
      this.#log.error('delivery failed; will retry', { group, attempts, retryInMs: delay });
    }
    if (delivered.length > 0) {
      try {
        await this.#outbox.remove(delivered);
      } catch (error) {
        for (const id of delivered) this.#unremoved.add(id);
        this.#log.error('outbox removal failed; will retry', {
          error: String(error),
          count: delivered.length,
        });
      }
    }
    this.#log.info('outbox delivered', {
      delivered: delivered.length,
      failed: batch.length - delivered.length,
    });
    return 'progress';
  }

  /** Backoff with half jitter: between half and all of the ceiling, never zero. */
  #delay(attempt: number): number {
    const ceiling = backoffCeiling(attempt, this.#retry);
    return Math.max(1, Math.round(ceiling / 2 + (this.#random() * ceiling) / 2));
  }

  #armPoll(): void {
    if (this.#stopped) return;
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = undefined;
      this.notify();
      this.#armPoll();
    }, this.#safetyPollMs);
    this.#pollTimer.unref();
  }

  #armRetry(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#stopped) return;
    const now = this.#now();
    let at = Number.POSITIVE_INFINITY;
    if (this.#readFailures > 0) at = this.#readRetryAt;
    for (const { until } of this.#blocked.values()) if (until > now) at = Math.min(at, until);
    if (this.#unremoved.size > 0) at = Math.min(at, now + this.#delay(1));
    if (!Number.isFinite(at)) return;
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined;
        this.notify();
      },
      Math.max(0, at - now),
    );
    this.#retryTimer.unref();
  }
}
