import {
  BatchGetItemCommand,
  type DynamoDBClient,
  DynamoDBClient as SdkClient,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBEventLog } from '../../../../../functions/adapters/dynamodb/event-log.js';
import { DynamoDBHeadReader } from '../../../../../functions/adapters/dynamodb/head-reader.js';
import { createEventLogTable, localDynamoClient } from '../../../../support/dynamodb.js';

describe('Adapter: DynamoDBHeadReader on DynamoDB Local', () => {
  let client: DynamoDBClient;
  let tableName: string;

  beforeAll(async () => {
    client = localDynamoClient();
    tableName = await createEventLogTable(client);
  });

  afterAll(() => client.destroy());

  it("reads each channel's newest position; a channel never appended to is absent", async () => {
    // Prepare: 100 channels, channel i holding i % 7 + 1 events, and one empty channel
    const log = new DynamoDBEventLog({ client, tableName });
    const channels = Array.from({ length: 99 }, (_, i) => `user/${i}`);
    for (const [i, channel] of channels.entries()) {
      await log.append(
        channel,
        Array.from({ length: (i % 7) + 1 }, (_, k) => ({
          event: 'message',
          data: `e${k}`,
          dedupeKey: `${channel}-${k}`,
        })),
      );
    }
    const reader = new DynamoDBHeadReader({ client, tableName });

    // Act
    const heads = await reader.heads([...channels, 'user/never']);

    // Assess
    expect(heads.size).toBe(99);
    for (const [i, channel] of channels.entries()) expect(heads.get(channel)).toBe((i % 7) + 1);
    expect(heads.has('user/never')).toBe(false);
  });

  it('takes a channel named twice, and refuses more than 100 channels naming the limit', async () => {
    const log = new DynamoDBEventLog({ client, tableName });
    await log.append('dup/a', [{ event: 'message', data: 'x', dedupeKey: 'x' }]);
    const reader = new DynamoDBHeadReader({ client, tableName });

    expect(await reader.heads(['dup/a', 'dup/a'])).toEqual(new Map([['dup/a', 1]]));
    await expect(reader.heads(Array.from({ length: 101 }, (_, i) => `many/${i}`))).rejects.toThrow(
      /at most 100 channels/,
    );
  });

  it('asks again for keys DynamoDB left unprocessed, then leaves the rest to the next round', async () => {
    // Prepare: the first answer leaves b unprocessed, the second answers it; then a
    // store that never processes c
    const throttled = new SdkClient({});
    const mock = mockClient(throttled);
    const key = (channel: string) => ({ channel: { S: channel }, position: { N: '0' } });
    const item = (channel: string, last: number) => ({
      channel: { S: channel },
      last: { N: String(last) },
    });
    mock
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { t: [item('a', 3)] },
        UnprocessedKeys: { t: { Keys: [key('b')] } },
      })
      .resolvesOnce({ Responses: { t: [item('b', 8)] } })
      .resolves({ Responses: { t: [] }, UnprocessedKeys: { t: { Keys: [key('c')] } } });
    const pauses: number[] = [];
    const reader = new DynamoDBHeadReader({
      client: throttled,
      tableName: 't',
      sleep: async (ms) => {
        pauses.push(ms);
      },
    });

    // Act
    const first = await reader.heads(['a', 'b']);
    const second = await reader.heads(['c']);

    // Assess
    expect(first).toEqual(
      new Map([
        ['a', 3],
        ['b', 8],
      ]),
    );
    expect(mock.commandCalls(BatchGetItemCommand)[1]?.args[0].input.RequestItems?.t?.Keys).toEqual([
      key('b'),
    ]);
    expect(second.size).toBe(0);
    // One pause before the retry of b, then two for c, then it gives up.
    expect(pauses).toEqual([50, 50, 200]);
    expect(mock.commandCalls(BatchGetItemCommand)).toHaveLength(2 + 3);
  });
});
