/**
 * The {@link EventLog} port on DynamoDB: appends as conditional transactions, reads as
 * queries that skip what retention has expired.
 */
import { randomBytes } from 'node:crypto';
import {
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
import type { ChangeRecorder } from '../../core/change-index.js';
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
import {
  ATTR,
  eventItem,
  type Head,
  headOf,
  markerItem,
  NO_HEAD,
  numberOf,
  storedEventOf,
} from './item-codec.js';
import { cancellation, DEFAULT_MAX_ATTEMPTS, isRetryable, type Round } from './retry.js';
import { HEAD_POSITION } from './table.js';
import { chunkUniques, type Unique } from './transaction-size.js';

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
  /**
   * Told the channel's new head after every append that stored an event (the change
   * index, for servers that hold many channels). Best effort: a failure is reported to
   * {@link onChangeError} and the append still succeeds, since a missed entry only
   * delays readers until their safety sweep. @default none
   */
  readonly changes?: ChangeRecorder;
  /** @default a `console.warn` line */
  readonly onChangeError?: (error: unknown, channel: string) => void;
}

/**
 * Heads remembered between appends. A Lambda writer serves few channels at a time; the
 * bound only keeps a long-lived process that sees many channels from growing.
 */
const HEAD_CACHE_SIZE = 1_000;

/**
 * {@link EventLog} on one DynamoDB table laid out as `table.ts` describes.
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
  readonly #changes: ChangeRecorder | undefined;
  readonly #onChangeError: (error: unknown, channel: string) => void;
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
    this.#changes = options.changes;
    this.#onChangeError =
      options.onChangeError ??
      ((error, channel) =>
        console.warn(`change index: recording ${JSON.stringify(channel)} failed`, error));
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
    if (head !== undefined && this.#changes !== undefined && outcomes.some((o) => !o.duplicate)) {
      try {
        await this.#changes.record(channel, head.last);
      } catch (error) {
        this.#onChangeError(error, channel);
      }
    }

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
    const expiry = { time, expiresAt, ttl };
    const newLast = head.last + pending.length;

    const items: TransactWriteItem[] = [this.#headUpdate(channel, head, newLast, time)];
    pending.forEach(({ event }, i) => {
      const position = head.last + i + 1;
      items.push(
        {
          Put: {
            TableName: this.#tableName,
            Item: eventItem(channel, position, event, expiry),
            // Only fails when the head also moved; it guards against ever overwriting.
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': ATTR.pk },
          },
        },
        {
          Put: {
            TableName: this.#tableName,
            Item: markerItem(channel, position, event, expiry, appendId),
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
      events: Items.map((item) => storedEventOf(channel, item)),
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
