/**
 * The outbox's DynamoDB table layout (created by `ensureTable` when the local stack starts).
 *
 * The outbox is a DynamoDB table (DynamoDB Local keeps it on disk under `.data/` in the
 * local stack). Its key is (`queue`, `id`): `queue` is always `pending` and `id` a
 * time-ordered id. A table keyed by `id` alone could not be read in order (a Scan
 * returns items in hash order), so the constant partition key makes the ids a sort key
 * that a Query pages through in publish order.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

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
