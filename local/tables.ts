import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { sleep } from '../functions/core/backoff.js';

/**
 * Creates a table unless it exists already (data survives restarts under `.data/`), and
 * waits until it is usable. Two stacks starting on one DynamoDB Local may race to create
 * it: the loser's `ResourceInUseException` means the table is there, so it waits too.
 */
export async function ensureTable(
  client: Pick<DynamoDBClient, 'send'>,
  input: CreateTableCommandInput,
): Promise<void> {
  const status = async () =>
    (await client.send(new DescribeTableCommand({ TableName: input.TableName }))).Table
      ?.TableStatus;
  try {
    if ((await status()) === 'ACTIVE') return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    try {
      await client.send(new CreateTableCommand(input));
    } catch (createError) {
      if (!(createError instanceof ResourceInUseException)) throw createError;
    }
  }
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if ((await status()) === 'ACTIVE') return;
    await sleep(100);
  }
  throw new Error(`table ${input.TableName} did not become ACTIVE`);
}
