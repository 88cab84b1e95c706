import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { eventLogTableDefinition } from '../../functions/adapters/dynamodb/table.js';

/** A client for the run's DynamoDB Local (started by the global setup). */
export function localDynamoClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/** Creates a fresh, uniquely named event-log table so test files never share state. */
export async function createEventLogTable(client: DynamoDBClient): Promise<string> {
  const tableName = `events-${randomUUID()}`;
  await client.send(new CreateTableCommand(eventLogTableDefinition(tableName)));
  return tableName;
}
