import { type Env, positiveInteger, requiredString } from '../config/env.js';
import { ENV } from '../config/environment.js';
import { MAX_PAYLOAD_BYTES } from '../core/contract.js';
import { DEFAULT_RETENTION_MS } from '../core/event-log.js';

export interface WriterConfig {
  /** `TABLE_NAME`: the event-log table. */
  readonly tableName: string;
  /** `DEAD_LETTER_QUEUE_URL`: where rejected messages go. */
  readonly deadLetterQueueUrl: string;
  /** `RETENTION_SECONDS`: how long events stay readable. @default 86400 (24 h) */
  readonly retentionMs: number;
  /** `MAX_PAYLOAD_BYTES`: largest payload stored. @default 262144 (SNS's own limit) */
  readonly maxPayloadBytes: number;
}

export function readWriterConfig(env: Env): WriterConfig {
  return {
    tableName: requiredString(env, ENV.tableName),
    deadLetterQueueUrl: requiredString(env, ENV.deadLetterQueueUrl),
    retentionMs: positiveInteger(env, ENV.retentionSeconds, DEFAULT_RETENTION_MS / 1000) * 1000,
    maxPayloadBytes: positiveInteger(env, ENV.maxPayloadBytes, MAX_PAYLOAD_BYTES),
  };
}
