import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxMessage } from '../../../../local/sns/deliverer.js';
import { OutboxIds } from '../../../../local/sns/outbox-ids.js';
import {
  MemoryOutbox,
  type OutboxMessage,
  type OutboxStore,
  OutboxTable,
} from '../../../../local/sns/outbox-store.js';
import { localDynamoClient } from '../../../support/dynamodb.js';

const ids = new OutboxIds();

function message(channel: string, data: string): OutboxMessage {
  const { id } = ids.next();
  const attributes = { channel: { Type: 'String', Value: channel } } as const;
  return outboxMessage(id, randomUUID(), {
    messageId: randomUUID(),
    topicArn: 'arn:aws:sns:us-east-1:000000000000:local',
    message: data,
    timestamp: new Date().toISOString(),
    attributes,
  });
}

describe('Class: OutboxTable and MemoryOutbox', () => {
  let client: DynamoDBClient;
  beforeAll(() => {
    client = localDynamoClient();
  });
  afterAll(() => client.destroy());

  const stores: Record<string, () => Promise<OutboxStore>> = {
    OutboxTable: async () => {
      const table = new OutboxTable({ client, tableName: `outbox-${randomUUID()}` });
      await table.ensure();
      return table;
    },
    MemoryOutbox: async () => new MemoryOutbox(),
  };

  it.each(Object.keys(stores))(
    '%s: reads pages in id order, gets by id what is still stored, removes',
    async (name) => {
      // Prepare: more messages than one read page or one BatchGetItem (100 keys) holds.
      const store = await stores[name]?.();
      if (store === undefined) throw new Error(name);
      const messages = Array.from({ length: 130 }, (_, i) => message(`c${i % 3}`, `m${i}`));
      await store.add(messages.slice(0, 1));
      await store.add(messages.slice(1, 100));
      await store.add(messages.slice(100));

      // Act
      const first = await store.read({ limit: 100 });
      const second = await store.read({ limit: 100, after: first.next });
      const wanted = [...messages.slice(0, 120).map((m) => m.id), 'not-there'];
      await store.remove(messages.slice(0, 5).map((m) => m.id));
      const got = await store.get(wanted);

      // Assess
      expect([...first.messages, ...second.messages]).toEqual(messages);
      expect(second.next).toBeUndefined();
      expect(got.map((m) => m.id).sort()).toEqual(messages.slice(5, 120).map((m) => m.id));
      expect(got.find((m) => m.id === messages[7]?.id)).toEqual(messages[7]);
      expect((await store.read({ limit: 200 })).messages).toEqual(messages.slice(5));
    },
  );
});
