import { randomUUID } from 'node:crypto';
import {
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventLogTableDefinition } from '../../../functions/adapters/dynamodb/table.js';
import { outboxTableDefinition } from '../../../local/sns/outbox-table.js';
import { ensureTable } from '../../../local/tables.js';
import { localDynamoClient } from '../../support/dynamodb.js';

describe('Function: ensureTable', () => {
  let client: DynamoDBClient;
  beforeAll(() => {
    client = localDynamoClient();
  });
  afterAll(() => client.destroy());

  const statusOf = async (tableName: string) =>
    (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;

  it('creates a missing table and returns once it is ACTIVE', async () => {
    const tableName = `events-${randomUUID()}`;
    await ensureTable(client, eventLogTableDefinition(tableName));
    expect(await statusOf(tableName)).toBe('ACTIVE');
  });

  it('leaves an existing table as it is', async () => {
    const tableName = `outbox-${randomUUID()}`;
    await ensureTable(client, outboxTableDefinition(tableName));
    await expect(ensureTable(client, outboxTableDefinition(tableName))).resolves.toBeUndefined();
    expect(await statusOf(tableName)).toBe('ACTIVE');
  });

  it('waits for a table another start created after this one found none', async () => {
    // Prepare: the table exists, but this start's first look came before it did.
    const tableName = `events-${randomUUID()}`;
    const definition = eventLogTableDefinition(tableName);
    await ensureTable(client, definition);
    let looks = 0;
    const lateClient: Pick<DynamoDBClient, 'send'> = {
      send: ((command: unknown) => {
        if (command instanceof DescribeTableCommand && looks++ === 0) {
          return Promise.reject(
            new ResourceNotFoundException({ message: 'not yet', $metadata: {} }),
          );
        }
        return client.send(command as DescribeTableCommand);
      }) as DynamoDBClient['send'],
    };

    // Act / Assess
    await expect(ensureTable(lateClient, definition)).resolves.toBeUndefined();
    expect(looks).toBeGreaterThan(1);
  });
});
