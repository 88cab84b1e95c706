import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  type CancellationReason,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type BackoffOptions,
  backoffDelay,
  DEFAULT_BACKOFF,
  sleep as realSleep,
  type Sleep,
} from '../../core/backoff.js';
import {
  AppendFailedError,
  type AppendOutcome,
  DEFAULT_RETENTION_MS,
  type EventLog,
  isRetained,
  type NewEvent,
  type ReadOptions,
  type RetainedRange,
  readLimit,
  type StoredEvent,
} from '../../core/event-log.js';
import { dedupeMarkerKey, HEAD_POSITION, TABLE_KEYS, TTL_ATTRIBUTE } from './table.js';

export interface DynamoDBEventLogOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** @default DEFAULT_RETENTION_MS (24 hours) */
  readonly retentionMs?: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly clock?: () => number;
  /**
   * Transactions one chunk of an append may try before giving up, not counting rounds
   * that found duplicates (those shrink the chunk, so they are bounded anyway).
   * @default DEFAULT_MAX_ATTEMPTS
   */
  readonly maxAttempts?: number;
  /** Pacing of retries after throttling, transaction conflicts and server errors. */
  readonly backoff?: BackoffOptions;
  /** Injected so tests never wait. @default a setTimeout-based sleep */
  readonly sleep?: Sleep;
}

/**
 * Enough for a handful of concurrent writers on one channel; a hotter channel should
 * raise it (every lost race costs an attempt).
 */
export const DEFAULT_MAX_ATTEMPTS = 10;

/**
 * DynamoDB allows 100 items per transaction; each event takes two (the event and its
 * dedupe marker) and the head one more: 1 + 2 × 49 = 99.
 */
export const MAX_EVENTS_PER_TRANSACTION = 49;

/**
 * DynamoDB refuses a transaction whose items add up to more than 4 MiB (4,194,304
 * bytes). Our estimate of an item's size is never below its real size (see
 * {@link estimateBytes}), and this budget leaves ~190 KB spare on top.
 */
export const TRANSACTION_BYTE_BUDGET = 4_000_000;

/** Per-item slack in size estimates, for DynamoDB's own per-item and per-attribute overhead. */
const ITEM_OVERHEAD_BYTES = 100;

/** A DynamoDB number takes at most 21 bytes; ours are positions and epoch times. */
const NUMBER_BYTES = 21;

/**
 * Heads remembered between appends. A Lambda writer serves few channels at a time; the
 * bound only keeps a long-lived process that sees many channels from growing.
 */
const HEAD_CACHE_SIZE = 1_000;

/** Attribute names, beyond the keys and TTL named in `event-log-table.ts`. */
const ATTR = {
  pk: TABLE_KEYS.partition,
  sk: TABLE_KEYS.sort,
  event: 'event',
  data: 'data',
  time: 'time',
  expiresAt: 'expiresAt',
  ttl: TTL_ATTRIBUTE,
  last: 'last',
  lastTime: 'lastTime',
  target: 'target',
  appendId: 'appendId',
} as const;

/** Error names worth another try: throttling, contention, and faults on AWS's side. */
const RETRYABLE_ERROR_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/**
 * Network failures the SDK gave up on. The transaction may or may not have committed;
 * retrying is safe because the head condition and the dedupe markers catch a commit.
 */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** `CancellationReason.Code`s worth another try (DynamoDB uses both short and long names). */
const RETRYABLE_REASON_CODES = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ThrottlingException',
  'ProvisionedThroughputExceeded',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
]);

interface Head {
  readonly last: number;
  readonly lastTime: number;
}

const NO_HEAD: Head = { last: 0, lastTime: 0 };

/** One distinct event of an append, with its index among the append's distinct events. */
interface Unique {
  readonly index: number;
  readonly event: NewEvent;
}

/** Outcome of one round of a chunk: committed, or what the cancellation taught us. */
type Round =
  | { readonly kind: 'committed'; readonly head: Head }
  | {
      readonly kind: 'retry';
      /** Events found to be stored already, by index in the chunk's pending list. */
      readonly duplicates: ReadonlyMap<number, AppendOutcome>;
      /** The current head when another writer moved it; `null` when it must be re-read. */
      readonly head: Head | null | undefined;
      /** Whether to back off before the next round. */
      readonly backoff: boolean;
      readonly error: unknown;
    };

/**
 * {@link EventLog} on one DynamoDB table laid out as `event-log-table.ts` describes.
 *
 * An append is one `TransactWriteItems` per chunk of at most 49 events: a conditional
 * update of the channel head (`last = expected`) plus a conditional put of each event
 * and of its dedupe marker. The head condition serialises writers, so positions have no
 * gap and no duplicate; the markers make a redelivered event (or our own retry after an
 * ambiguous failure) resolve to its original position. Failed conditions return the
 * current item (`ALL_OLD`), so losing a race costs no extra read. See `docs/event-log.md`
 * for the unit costs.
 */
export class DynamoDBEventLog implements EventLog {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #retentionMs: number;
  readonly #clock: () => number;
  readonly #maxAttempts: number;
  readonly #backoff: BackoffOptions;
  readonly #sleep: Sleep;
  /**
   * Heads this instance wrote last, by channel, in least-recently-used order. A stale
   * entry is harmless: the head condition fails and returns the current head.
   */
  readonly #heads = new Map<string, Head>();

  constructor(options: DynamoDBEventLogOptions) {
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
    }
    const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    if (!Number.isSafeInteger(retentionMs) || retentionMs < 1) {
      throw new RangeError(`retentionMs must be a positive integer, got ${retentionMs}`);
    }
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#retentionMs = retentionMs;
    this.#clock = options.clock ?? Date.now;
    this.#maxAttempts = maxAttempts;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#sleep = options.sleep ?? realSleep;
  }

  async append(channel: string, events: readonly NewEvent[]): Promise<AppendOutcome[]> {
    if (events.length === 0) return [];

    // A key repeated inside one call would put the same marker twice in one
    // transaction, which DynamoDB refuses; later repeats take the first one's outcome.
    const uniques: Unique[] = [];
    const uniqueOf: number[] = [];
    const byKey = new Map<string, number>();
    for (const event of events) {
      let index = byKey.get(event.dedupeKey);
      if (index === undefined) {
        index = uniques.length;
        byKey.set(event.dedupeKey, index);
        uniques.push({ index, event });
      }
      uniqueOf.push(index);
    }

    const outcomes: AppendOutcome[] = [];
    // Lets a retry recognise markers that an "ambiguous" failure did commit (see `cancellation`).
    const appendId = randomBytes(12).toString('base64url');
    let head = this.#cachedHead(channel);
    for (const chunk of chunkUniques(channel, uniques)) {
      try {
        head = await this.#appendChunk(channel, chunk, head, appendId, outcomes);
      } catch (error) {
        this.#heads.delete(channel);
        const firstUnstored = chunk[0]?.index ?? uniques.length;
        // First occurrences come in input order, so the stored events are a prefix.
        const stored = uniqueOf.findIndex((u) => u >= firstUnstored);
        throw new AppendFailedError(channel, stored === -1 ? events.length : stored, {
          cause: error,
        });
      }
    }
    if (head !== undefined) this.#rememberHead(channel, head);

    const seen = new Set<number>();
    return uniqueOf.map((u) => {
      const outcome = outcomes[u] as AppendOutcome;
      if (seen.has(u)) return { position: outcome.position, duplicate: true };
      seen.add(u);
      return outcome;
    });
  }

  /**
   * Stores one chunk, retrying until it commits (or turns out to be all duplicates).
   * Writes each event's outcome into `outcomes` at its unique index; returns the head
   * after the chunk.
   */
  async #appendChunk(
    channel: string,
    chunk: readonly Unique[],
    knownHead: Head | undefined,
    appendId: string,
    outcomes: AppendOutcome[],
  ): Promise<Head | undefined> {
    let pending = chunk;
    let head = knownHead;
    let attempts = 0;
    let lostRaces = 0;
    for (;;) {
      if (pending.length === 0) return head;
      let round: Round;
      try {
        head ??= (await this.#readHead(channel)) ?? NO_HEAD;
        round = await this.#tryChunk(channel, pending, head, appendId);
      } catch (error) {
        if (!isRetryable(error)) throw error;
        round = { kind: 'retry', duplicates: new Map(), head: undefined, backoff: true, error };
      }

      if (round.kind === 'committed') {
        const base = round.head.last - pending.length;
        pending.forEach((unique, i) => {
          outcomes[unique.index] = { position: base + i + 1, duplicate: false };
        });
        return round.head;
      }

      for (const [i, outcome] of round.duplicates) {
        outcomes[(pending[i] as Unique).index] = outcome;
      }
      if (round.duplicates.size > 0) {
        pending = pending.filter((_, i) => !round.duplicates.has(i));
      } else {
        attempts += 1;
        if (attempts >= this.#maxAttempts) throw round.error;
      }
      if (round.head !== undefined) head = round.head ?? undefined;
      lostRaces = round.head === undefined ? 0 : lostRaces + 1;
      if (round.backoff || lostRaces >= 2) {
        await this.#sleep(backoffDelay(Math.max(attempts, 1), this.#backoff));
      }
    }
  }

  /** One `TransactWriteItems` for `pending` on top of `head`. */
  async #tryChunk(
    channel: string,
    pending: readonly Unique[],
    head: Head,
    appendId: string,
  ): Promise<Round> {
    const now = this.#clock();
    const time = Math.max(now, head.lastTime);
    const expiresAt = time + this.#retentionMs;
    const ttl = Math.ceil(expiresAt / 1000);
    const newLast = head.last + pending.length;

    const items: TransactWriteItem[] = [this.#headUpdate(channel, head, newLast, time)];
    pending.forEach(({ event }, i) => {
      const position = head.last + i + 1;
      items.push(
        {
          Put: {
            TableName: this.#tableName,
            Item: {
              [ATTR.pk]: { S: channel },
              [ATTR.sk]: { N: String(position) },
              [ATTR.event]: { S: event.event },
              [ATTR.data]: { S: event.data },
              [ATTR.time]: { N: String(time) },
              [ATTR.expiresAt]: { N: String(expiresAt) },
              [ATTR.ttl]: { N: String(ttl) },
            },
            // Only fails when the head also moved; it guards against ever overwriting.
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': ATTR.pk },
          },
        },
        {
          Put: {
            TableName: this.#tableName,
            Item: {
              [ATTR.pk]: { S: dedupeMarkerKey(channel, event.dedupeKey) },
              [ATTR.sk]: { N: String(HEAD_POSITION) },
              [ATTR.target]: { N: String(position) },
              [ATTR.expiresAt]: { N: String(expiresAt) },
              [ATTR.ttl]: { N: String(ttl) },
              [ATTR.appendId]: { S: appendId },
            },
            // A marker lives as long as its event: once that has expired the key is free
            // again, even if TTL has not deleted the marker yet.
            ConditionExpression: 'attribute_not_exists(#pk) OR #expiresAt <= :now',
            ExpressionAttributeNames: { '#pk': ATTR.pk, '#expiresAt': ATTR.expiresAt },
            ExpressionAttributeValues: { ':now': { N: String(now) } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      );
    });

    try {
      await this.#client.send(new TransactWriteItemsCommand({ TransactItems: items }));
      return { kind: 'committed', head: { last: newLast, lastTime: time } };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      return cancellation(error, pending.length, appendId);
    }
  }

  #headUpdate(channel: string, head: Head, newLast: number, time: number): TransactWriteItem {
    const fresh = head.last === 0;
    return {
      Update: {
        TableName: this.#tableName,
        Key: { [ATTR.pk]: { S: channel }, [ATTR.sk]: { N: String(HEAD_POSITION) } },
        UpdateExpression: 'SET #last = :last, #lastTime = :lastTime',
        ConditionExpression: fresh ? 'attribute_not_exists(#pk)' : '#last = :expected',
        ExpressionAttributeNames: {
          '#last': ATTR.last,
          '#lastTime': ATTR.lastTime,
          ...(fresh ? { '#pk': ATTR.pk } : {}),
        },
        ExpressionAttributeValues: {
          ':last': { N: String(newLast) },
          ':lastTime': { N: String(time) },
          ...(fresh ? {} : { ':expected': { N: String(head.last) } }),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  async read(channel: string, after: number, options?: ReadOptions): Promise<StoredEvent[]> {
    const limit = readLimit(options);
    if (!Number.isSafeInteger(after)) {
      throw new RangeError(`read position must be an integer, got ${after}`);
    }
    const now = this.#clock();
    let consistent = options?.consistent === true;
    let from = after;
    let skipped = false;
    // Each `continue` flips `consistent` or `skipped` from false to true, so this makes
    // at most three queries plus one retained-range search.
    for (;;) {
      const page = await this.#query(channel, from, limit, consistent);
      const { run, gap } = contiguousRetained(
        page.events,
        from,
        now,
        this.#retentionMs,
        consistent,
      );
      if (gap && !consistent) {
        // An eventually consistent replica may lag: ask the leader.
        consistent = true;
        continue;
      }
      if (run.length > 0) return run;
      const lastSeen = page.events.at(-1);
      if (lastSeen === undefined || !page.more || skipped) return [];
      // A whole page of expired events: jump to the first retained one instead of
      // paging through an expired prefix that TTL has not deleted yet.
      skipped = true;
      const range = await this.#retainedRange(channel, now, lastSeen.position + 1);
      if (range.first > range.last) return [];
      from = Math.max(from, range.first - 1);
    }
  }

  async retained(channel: string): Promise<RetainedRange> {
    return this.#retainedRange(channel, this.#clock(), 1);
  }

  /**
   * The retained range, knowing positions below `lowest` have expired. Times never
   * decrease along a channel, so "retained" is monotone in position and a binary search
   * with consistent reads finds the boundary in O(log n) GetItems. A missing position
   * (at or below `last`, which a consistent head read guarantees was committed) can only
   * have been deleted by TTL, so it counts as expired.
   */
  async #retainedRange(channel: string, now: number, lowest: number): Promise<RetainedRange> {
    const last = (await this.#readHead(channel))?.last ?? 0;
    let low = Math.max(1, lowest);
    if (low > last) return { first: last + 1, last };
    if (await this.#retainedAt(channel, low, now)) return { first: low, last };
    if (low === last || !(await this.#retainedAt(channel, last, now))) {
      return { first: last + 1, last };
    }
    // Invariant: `low` has expired, `high` is retained.
    let high = last;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (await this.#retainedAt(channel, middle, now)) high = middle;
      else low = middle;
    }
    return { first: high, last };
  }

  async #retainedAt(channel: string, position: number, now: number): Promise<boolean> {
    const { Item } = await this.#client.send(
      new GetItemCommand({
        TableName: this.#tableName,
        Key: { [ATTR.pk]: { S: channel }, [ATTR.sk]: { N: String(position) } },
        ConsistentRead: true,
        // Saves bandwidth only: DynamoDB bills the whole item's size either way.
        ProjectionExpression: '#time',
        ExpressionAttributeNames: { '#time': ATTR.time },
      }),
    );
    return Item !== undefined && isRetained(numberOf(Item, ATTR.time), now, this.#retentionMs);
  }

  async #readHead(channel: string): Promise<Head | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({
        TableName: this.#tableName,
        Key: { [ATTR.pk]: { S: channel }, [ATTR.sk]: { N: String(HEAD_POSITION) } },
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : headOf(Item);
  }

  async #query(
    channel: string,
    after: number,
    limit: number,
    consistent: boolean,
  ): Promise<{ events: StoredEvent[]; more: boolean }> {
    const { Items = [], LastEvaluatedKey } = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: '#pk = :channel AND #sk > :after',
        ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
        ExpressionAttributeValues: {
          ':channel': { S: channel },
          ':after': { N: String(after) },
        },
        ScanIndexForward: true,
        Limit: limit,
        ConsistentRead: consistent,
      }),
    );
    return {
      events: Items.map((item) => ({
        channel,
        position: numberOf(item, ATTR.sk),
        event: stringOf(item, ATTR.event),
        data: stringOf(item, ATTR.data),
        time: numberOf(item, ATTR.time),
      })),
      more: LastEvaluatedKey !== undefined,
    };
  }

  #cachedHead(channel: string): Head | undefined {
    const head = this.#heads.get(channel);
    if (head !== undefined) this.#rememberHead(channel, head);
    return head;
  }

  #rememberHead(channel: string, head: Head): void {
    // Map keeps insertion order: re-inserting moves the channel to the young end.
    this.#heads.delete(channel);
    this.#heads.set(channel, head);
    if (this.#heads.size > HEAD_CACHE_SIZE) {
      const oldest = this.#heads.keys().next();
      if (oldest.done !== true) this.#heads.delete(oldest.value);
    }
  }
}

/**
 * Splits an append's distinct events into transactions within DynamoDB's limits:
 * at most {@link MAX_EVENTS_PER_TRANSACTION} events and {@link TRANSACTION_BYTE_BUDGET}
 * bytes. An event too large for any transaction still gets a chunk of its own, so
 * DynamoDB's error (not a silent drop) reports it.
 */
function chunkUniques(channel: string, uniques: readonly Unique[]): Unique[][] {
  const headBytes = estimateBytes(channel) + 2 * NUMBER_BYTES + 64 + ITEM_OVERHEAD_BYTES;
  const chunks: Unique[][] = [];
  let chunk: Unique[] = [];
  let bytes = headBytes;
  for (const unique of uniques) {
    const size = eventBytes(channel, unique.event);
    if (
      chunk.length > 0 &&
      (chunk.length >= MAX_EVENTS_PER_TRANSACTION || bytes + size > TRANSACTION_BYTE_BUDGET)
    ) {
      chunks.push(chunk);
      chunk = [];
      bytes = headBytes;
    }
    chunk.push(unique);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Upper bound of what one event adds to a transaction: its item plus its dedupe marker. */
function eventBytes(channel: string, event: NewEvent): number {
  const channelBytes = estimateBytes(channel);
  const eventItem =
    channelBytes +
    estimateBytes(event.event) +
    estimateBytes(event.data) +
    4 * NUMBER_BYTES +
    40 + // attribute names: channel, position, event, data, time, expiresAt, ttl
    ITEM_OVERHEAD_BYTES;
  const marker =
    channelBytes +
    1 +
    estimateBytes(event.dedupeKey) +
    4 * NUMBER_BYTES +
    24 + // appendId
    49 + // attribute names: channel, position, target, expiresAt, ttl, appendId
    ITEM_OVERHEAD_BYTES;
  return eventItem + marker;
}

/**
 * Bytes a string takes, rounded up: its JSON-escaped UTF-8 length. DynamoDB counts the
 * plain UTF-8 length, which is never more; the escaped length also bounds what the
 * string adds to the request body.
 */
function estimateBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8');
}

/**
 * Reads a `TransactionCanceledException`. Reasons are index-aligned with the items:
 * 0 is the head, then for the i-th pending event 1 + 2i its item and 2 + 2i its marker.
 */
function cancellation(
  error: TransactionCanceledException,
  pendingCount: number,
  appendId: string,
): Round {
  const reasons: readonly CancellationReason[] = error.CancellationReasons ?? [];
  const duplicates = new Map<number, AppendOutcome>();
  let head: Head | null | undefined;
  let backoff = false;
  let slotTaken = false;
  for (const [index, reason] of reasons.entries()) {
    const code = reason.Code ?? 'None';
    if (code === 'None') continue;
    if (RETRYABLE_REASON_CODES.has(code)) {
      backoff = true;
      continue;
    }
    if (code !== 'ConditionalCheckFailed') throw error;
    if (index === 0) {
      // Another writer moved the head; ALL_OLD hands us where it is now.
      head = reason.Item === undefined ? null : headOf(reason.Item);
    } else if (index % 2 === 0 && index / 2 - 1 < pendingCount) {
      const item = reason.Item;
      if (item === undefined) throw error;
      duplicates.set(index / 2 - 1, {
        position: numberOf(item, ATTR.target),
        // Our own marker means an earlier attempt of this very call committed after all.
        duplicate: item[ATTR.appendId]?.S !== appendId,
      });
    } else {
      slotTaken = true;
    }
  }
  const nothingLearned = head === undefined && duplicates.size === 0 && !backoff;
  if (nothingLearned || (slotTaken && head === undefined)) {
    // Either an event position was taken while the head says it is free (the log is
    // damaged) or the cancellation gave no reason we understand: retrying cannot help.
    throw error;
  }
  return { kind: 'retry', duplicates, head, backoff, error };
}

/**
 * The longest run of retained events that continues `after` without a gap. `gap` says
 * a retained event did not follow its predecessor, which an eventually consistent read
 * can show while a replica lags. In a consistent read, positions missing before the
 * first retained event were deleted by TTL (so had expired) and are skipped.
 */
function contiguousRetained(
  events: readonly StoredEvent[],
  after: number,
  now: number,
  retentionMs: number,
  consistent: boolean,
): { run: StoredEvent[]; gap: boolean } {
  const run: StoredEvent[] = [];
  let expected = after + 1;
  for (const event of events) {
    const retained = isRetained(event.time, now, retentionMs);
    if (retained && event.position !== expected && (run.length > 0 || !consistent)) {
      return { run, gap: true };
    }
    // Times never decrease, so an expired event cannot follow a retained one; stop if so.
    if (!retained && run.length > 0) break;
    if (retained) run.push(event);
    expected = event.position + 1;
  }
  return { run, gap: false };
}

function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (RETRYABLE_ERROR_NAMES.has(error.name)) return true;
  if ('code' in error && typeof error.code === 'string' && RETRYABLE_NETWORK_CODES.has(error.code))
    return true;
  if ('$fault' in error && error.$fault === 'server') return true;
  if ('$metadata' in error && typeof error.$metadata === 'object' && error.$metadata !== null) {
    const status = 'httpStatusCode' in error.$metadata ? error.$metadata.httpStatusCode : undefined;
    return typeof status === 'number' && status >= 500;
  }
  return false;
}

function headOf(item: Record<string, AttributeValue>): Head {
  return {
    last: numberOf(item, ATTR.last),
    lastTime: item[ATTR.lastTime] === undefined ? 0 : numberOf(item, ATTR.lastTime),
  };
}

function numberOf(item: Record<string, AttributeValue>, name: string): number {
  const value = Number(item[name]?.N);
  if (!Number.isFinite(value)) {
    throw new Error(`event log item lacks number attribute ${JSON.stringify(name)}`);
  }
  return value;
}

function stringOf(item: Record<string, AttributeValue>, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) {
    throw new Error(`event log item lacks string attribute ${JSON.stringify(name)}`);
  }
  return value;
}
