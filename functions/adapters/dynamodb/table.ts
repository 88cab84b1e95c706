import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The event log's DynamoDB table layout, shared by the DynamoDB event log, the CDK
 * construct and the local stack so that all three agree on names.
 *
 * One table holds three kinds of item, all keyed by (`channel`, `position`):
 * - an event: (channel, n ≥ 1) with `event`, `data`, `time`, `expiresAt`, `ttl`;
 * - the channel head: (channel, 0) with `last`, the highest position assigned, and
 *   `lastTime`, the newest event time (so times never decrease along a channel);
 * - a dedupe marker: (`<channel>#<dedupeKey>`, 0) with `target`, the position the key
 *   was stored at, the event's `expiresAt` and `ttl`, and `appendId` (which append call
 *   wrote it). `#` cannot occur in a channel name, so markers never collide with
 *   channels.
 */
export const TABLE_KEYS = { partition: 'channel', sort: 'position' } as const;

/** DynamoDB's TTL attribute: epoch seconds, deleted lazily by the service. */
export const TTL_ATTRIBUTE = 'ttl';

/** Position of the head item and of dedupe markers; events start at 1. */
export const HEAD_POSITION = 0;

export function dedupeMarkerKey(channel: string, dedupeKey: string): string {
  return `${channel}#${dedupeKey}`;
}

/** The CreateTable input used by tests and the local stack (CDK declares the same keys). */
export function eventLogTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE_KEYS.partition, AttributeType: 'S' },
      { AttributeName: TABLE_KEYS.sort, AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: TABLE_KEYS.partition, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sort, KeyType: 'RANGE' },
    ],
  };
}
