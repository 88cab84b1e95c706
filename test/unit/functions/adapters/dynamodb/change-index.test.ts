import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutItemCommand, DynamoDBClient as SdkClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHANGE_BUCKET_MS,
  changePartition,
  DynamoDBChangeIndex,
  shardOf,
} from '../../../../../functions/adapters/dynamodb/change-index.js';
import { DynamoDBEventLog } from '../../../../../functions/adapters/dynamodb/event-log.js';
import { createEventLogTable, localDynamoClient } from '../../../../support/dynamodb.js';

describe('Adapter: DynamoDBChangeIndex on DynamoDB Local', () => {
  let client: DynamoDBClient;
  let tableName: string;

  beforeAll(async () => {
    client = localDynamoClient();
    tableName = await createEventLogTable(client);
  });

  afterAll(() => client.destroy());

  it('keeps its partitions apart from every channel and dedupe marker', () => {
    expect(changePartition(0, 29_000_000)).toBe('#changes/0/29000000');
    // Channels never start with `#`, and markers are `<channel>#…`.
    expect(changePartition(3, 1).startsWith('#')).toBe(true);
    expect(shardOf('orders/42', 4)).toBe(shardOf('orders/42', 4));
    const shards = new Set(Array.from({ length: 200 }, (_, i) => shardOf(`user/${i}`, 4)));
    expect([...shards].sort()).toEqual([0, 1, 2, 3]);
  });

  it('returns what was recorded after a time, oldest first, across shards and a bucket boundary', async () => {
    // Prepare: a clock just before a bucket boundary
    let now = 1_800_000_000_000 - (1_800_000_000_000 % CHANGE_BUCKET_MS) + CHANGE_BUCKET_MS - 50;
    const index = new DynamoDBChangeIndex({ client, tableName, shards: 3, clock: () => now });
    const start = now;
    await index.record('a', 1);
    now += 20;
    await index.record('b', 4);
    now += 60; // the next bucket
    await index.record('a', 2);

    // Act
    const all = await index.changesSince(start - 1);
    const later = await index.changesSince(start + 10);

    // Assess
    expect(all.map((e) => [e.channel, e.head])).toEqual([
      ['a', 1],
      ['b', 4],
      ['a', 2],
    ]);
    expect(all.map((e) => Math.floor(e.key))).toEqual([start, start + 20, start + 80]);
    expect(later.map((e) => [e.channel, e.head])).toEqual([
      ['b', 4],
      ['a', 2],
    ]);
  });

  it('is written by the event log after an append that stored events, not after duplicates only', async () => {
    const index = new DynamoDBChangeIndex({ client, tableName });
    const since = Date.now() - 1;
    const log = new DynamoDBEventLog({ client, tableName, changes: index });
    await log.append('orders/7', [
      { event: 'message', data: 'a', dedupeKey: 'k1' },
      { event: 'message', data: 'b', dedupeKey: 'k2' },
    ]);
    await log.append('orders/7', [{ event: 'message', data: 'a', dedupeKey: 'k1' }]);

    const entries = (await index.changesSince(since)).filter((e) => e.channel === 'orders/7');

    expect(entries.map((e) => e.head)).toEqual([2]);
  });

  it('lets the append succeed when the index cannot be written, and says so', async () => {
    // Only the index's PutItem fails: the transaction goes to DynamoDB Local.
    const failing = new SdkClient({});
    const mock = mockClient(failing);
    mock.on(PutItemCommand).rejects(new Error('throttled'));
    const problems: [unknown, string][] = [];
    const log = new DynamoDBEventLog({
      client,
      tableName,
      changes: new DynamoDBChangeIndex({ client: failing, tableName }),
      onChangeError: (error, channel) => problems.push([error, channel]),
    });

    const [outcome] = await log.append('orders/8', [
      { event: 'message', data: 'x', dedupeKey: 'k' },
    ]);

    expect(outcome).toEqual({ position: 1, duplicate: false });
    expect(problems.map(([e, c]) => [String(e), c])).toEqual([['Error: throttled', 'orders/8']]);
    expect(await log.read('orders/8', 0)).toHaveLength(1);
    mock.restore();
  });
});
