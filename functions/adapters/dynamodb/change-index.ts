/**
 * The change index on the event-log table (docs/event-log.md, "Change index"): small
 * items in partitions of their own, `#changes/<shard>/<minute>`, one per append, holding
 * the channel (`c`) and its newest position (`h`). The sort key (`position`) is the
 * write time in ms × 1,000 plus a random tie-breaker, so a reader asks one partition for
 * "everything after t" with one Query. Partition keys start with `#`, which no channel
 * and no dedupe marker (`<channel>#…`) can, so the index never meets the events.
 *
 * Minute buckets keep any one partition from growing without end, and items expire by
 * TTL an hour after they are written. Shards spread the index's writes: one partition
 * takes up to 1,000 write units a second, one per append here; readers pay one Query per
 * shard per bucket they span.
 */
import {
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { ChangeEntry, ChangeReader, ChangeRecorder } from '../../core/change-index.js';
import { TABLE_KEYS, TTL_ATTRIBUTE } from './table.js';

/** Width of one bucket: a reader spans at most two for a look-back under a minute. */
export const CHANGE_BUCKET_MS = 60_000;
/** Index items are hints for the next seconds; an hour is ample and keeps the table small. */
export const CHANGE_TTL_SECONDS = 3_600;
/** Sort keys are ms × this plus a random number below it. */
const KEY_SCALE = 1_000;
/** Pages of one bucket read at most per call: a backlog beyond is read at the next tick. */
const MAX_PAGES = 10;

export function changePartition(shard: number, bucket: number): string {
  return `#changes/${shard}/${bucket}`;
}

/** FNV-1a: the same channel always lands on the same shard. */
export function shardOf(channel: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) {
    hash ^= channel.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

export interface DynamoDBChangeIndexOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Partitions the index is spread over; writers and readers must agree. @default 1 */
  readonly shards?: number;
  readonly clock?: () => number;
  readonly random?: () => number;
}

export class DynamoDBChangeIndex implements ChangeRecorder, ChangeReader {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #shards: number;
  readonly #clock: () => number;
  readonly #random: () => number;

  constructor(options: DynamoDBChangeIndexOptions) {
    const shards = options.shards ?? 1;
    if (!Number.isInteger(shards) || shards < 1 || shards > 100) {
      throw new RangeError(`change index shards must be an integer from 1 to 100, got ${shards}`);
    }
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#shards = shards;
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  async record(channel: string, head: number): Promise<void> {
    const now = this.#clock();
    const key = now * KEY_SCALE + Math.floor(this.#random() * KEY_SCALE);
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#tableName,
        Item: {
          [TABLE_KEYS.partition]: {
            S: changePartition(shardOf(channel, this.#shards), bucketOf(now)),
          },
          [TABLE_KEYS.sort]: { N: String(key) },
          c: { S: channel },
          h: { N: String(head) },
          [TTL_ATTRIBUTE]: { N: String(Math.floor(now / 1000) + CHANGE_TTL_SECONDS) },
        },
      }),
    );
  }

  async changesSince(sinceMs: number): Promise<ChangeEntry[]> {
    const from = bucketOf(sinceMs);
    const to = bucketOf(this.#clock());
    const queries: Promise<ChangeEntry[]>[] = [];
    // A reader that fell far behind (a paused process) reads the last two buckets only:
    // what is older the safety sweep finds.
    for (let bucket = Math.max(from, to - 1); bucket <= to; bucket++) {
      for (let shard = 0; shard < this.#shards; shard++) {
        queries.push(this.#query(changePartition(shard, bucket), sinceMs * KEY_SCALE));
      }
    }
    const entries = (await Promise.all(queries)).flat();
    return entries.sort((a, b) => a.key - b.key);
  }

  async #query(partition: string, afterKey: number): Promise<ChangeEntry[]> {
    const entries: ChangeEntry[] = [];
    let start: QueryCommandOutput['LastEvaluatedKey'];
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: '#p = :p AND #s > :s',
          ExpressionAttributeNames: { '#p': TABLE_KEYS.partition, '#s': TABLE_KEYS.sort },
          ExpressionAttributeValues: { ':p': { S: partition }, ':s': { N: String(afterKey) } },
          ProjectionExpression: '#s, c, h',
          ...(start !== undefined && { ExclusiveStartKey: start }),
        }),
      );
      for (const item of answer.Items ?? []) {
        const channel = item.c?.S;
        const head = Number(item.h?.N);
        const key = Number(item[TABLE_KEYS.sort]?.N);
        if (channel === undefined || !Number.isSafeInteger(head) || !Number.isFinite(key)) continue;
        entries.push({ channel, head, key: key / KEY_SCALE });
      }
      start = answer.LastEvaluatedKey;
      if (start === undefined) break;
    }
    return entries;
  }
}

function bucketOf(ms: number): number {
  return Math.floor(ms / CHANGE_BUCKET_MS);
}
