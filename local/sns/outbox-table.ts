/**
 * The outbox's DynamoDB table: its layout, and creating it when the local stack starts.
 *
 * The outbox is a DynamoDB table (DynamoDB Local keeps it on disk under `.data/` in the
 * local stack). Its key is (`queue`, `id`): `queue` is always `pending` and `id` a
 * time-ordered id. A table keyed by `id` alone could not be read in order (a Scan
 * returns items in hash order), so the constant partition key makes the ids a sort key
 * that a Query pages through in publish order.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { sleep } from '../../functions/core/backoff.js';

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

/** Creates the table unless it exists, and waits until it is usable. */
export async function ensureOutboxTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const status = async () =>
    (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;
  try {
    if ((await status()) === 'ACTIVE') return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    try {
      await client.send(new CreateTableCommand(outboxTableDefinition(tableName)));
    } catch (createError) {
      if (!(createError instanceof ResourceInUseException)) throw createError;
    }
  }
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if ((await status()) === 'ACTIVE') return;
    await sleep(100);
  }
  throw new Error(`outbox table ${tableName} did not become ACTIVE`);
}
