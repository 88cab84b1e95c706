/**
 * The change index's settings (README, "Configuration"), read by the writer (which
 * records) and by a server holding many channels (which reads). `CHANGE_INDEX_SHARDS`
 * unset means no index: the writer records nothing and the server polls each channel at
 * the normal interval. Every error names the variable.
 */
import { DEFAULT_CHANGE_POLL } from '../core/change-index.js';
import { ConfigError, type Env, optionalString, positiveInteger } from './env.js';
import { ENV } from './environment.js';

/**
 * With the index on, how often the safety sweep reads the heads of every held channel.
 * It only matters when an index entry was lost; at 120 s, 128 idle per-user channels
 * cost two BatchGetItem requests (30 head reads per channel) an hour.
 */
export const DEFAULT_SAFETY_POLL_SECONDS = 120;
/** DynamoDBChangeIndex's own bound. */
export const MAX_CHANGE_INDEX_SHARDS = 100;

export interface ChangeIndexConfig {
  readonly shards: number;
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
  readonly safetyPollMs: number;
}

export function readChangeIndexConfig(env: Env): ChangeIndexConfig | undefined {
  if (optionalString(env, ENV.changeIndexShards) === undefined) return undefined;
  const shards = positiveInteger(env, ENV.changeIndexShards, 1);
  if (shards > MAX_CHANGE_INDEX_SHARDS) {
    throw new ConfigError(
      `environment variable ${ENV.changeIndexShards} must be at most ${MAX_CHANGE_INDEX_SHARDS}, got "${shards}"`,
    );
  }
  const pollMinMs = positiveInteger(env, ENV.changePollMinMs, DEFAULT_CHANGE_POLL.minMs);
  const pollMaxMs = positiveInteger(env, ENV.changePollMaxMs, DEFAULT_CHANGE_POLL.maxMs);
  if (pollMaxMs < pollMinMs) {
    throw new ConfigError(
      `environment variable ${ENV.changePollMaxMs} (${pollMaxMs}) must be at least ${ENV.changePollMinMs} (${pollMinMs})`,
    );
  }
  return {
    shards,
    pollMinMs,
    pollMaxMs,
    safetyPollMs: positiveInteger(env, ENV.safetyPollSeconds, DEFAULT_SAFETY_POLL_SECONDS) * 1000,
  };
}
