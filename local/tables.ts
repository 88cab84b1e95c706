import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';

/** Creates a table unless it exists already (data survives restarts under `.data/`). */
export async function ensureTable(
  client: DynamoDBClient,
  input: CreateTableCommandInput,
): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: input.TableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(new CreateTableCommand(input));
  }
}
