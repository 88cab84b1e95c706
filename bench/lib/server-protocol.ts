/** Messages between the bench and a server it runs in a child process (`bench/server.ts`). */
import type { DynamoDBCounts } from './dynamodb-counter.js';

export type ServerMode =
  /** The local stack as `npm start` runs it (`startLocalStack`, in memory). */
  | 'stack'
  /** The in-memory broadcast baseline on better-sse. */
  | 'baseline'
  /** The Node adapter (SharedFeed + routes + node:http) on a given DynamoDB, reads counted. */
  | 'node';

export interface ServerConfig {
  readonly mode: ServerMode;
  /** Environment the stack reads (POLL_MIN_MS …); merged over the child's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** `node` mode: the DynamoDB Local endpoint and the event-log table. */
  readonly dynamoEndpoint?: string;
  readonly tableName?: string;
}

export interface ReadyMessage {
  readonly type: 'ready';
  readonly url: string;
  readonly topicArn: string;
  readonly dynamoEndpoint?: string | undefined;
}

export interface StatsMessage {
  readonly type: 'stats';
  readonly memory: NodeJS.MemoryUsage;
  /** Whether `global.gc` ran (twice) before `memory` was read. */
  readonly gc: boolean;
  readonly cpu: NodeJS.CpuUsage;
  readonly dynamo?: DynamoDBCounts | undefined;
}

export interface FailedMessage {
  readonly type: 'failed';
  readonly message: string;
}

export type ChildMessage = ReadyMessage | StatsMessage | FailedMessage;
export type ParentMessage = { readonly type: 'stats' } | { readonly type: 'stop' };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function isChildMessage(value: unknown): value is ChildMessage {
  return (
    isObject(value) && (value.type === 'ready' || value.type === 'stats' || value.type === 'failed')
  );
}

export function isParentMessage(value: unknown): value is ParentMessage {
  return isObject(value) && (value.type === 'stats' || value.type === 'stop');
}

export function parseServerConfig(text: string | undefined): ServerConfig {
  const value: unknown = JSON.parse(text ?? '{}');
  if (
    !isObject(value) ||
    (value.mode !== 'stack' && value.mode !== 'baseline' && value.mode !== 'node')
  ) {
    throw new Error(`bench server: bad config ${text}`);
  }
  return value as unknown as ServerConfig;
}
