import {
  ConfigError,
  type Env,
  fraction,
  list,
  nonNegativeInteger,
  optionalString,
  positiveInteger,
} from '../config/env.js';
import { DEPLOYMENT_DEFAULTS, ENV } from '../config/environment.js';
import { DEFAULT_RETENTION_MS } from '../core/event-log.js';
import { DEFAULT_POLL_MAX_MS, DEFAULT_POLL_MIN_MS } from '../core/polling-feed.js';
import type { CorsOrigins } from './cors.js';

/** Streams end by themselves after about this long (less jitter); clients reconnect. */
export const STREAM_LIFETIME_MS = DEPLOYMENT_DEFAULTS.streamLifetimeSeconds * 1000;
/** Up to this share of the lifetime is cut at random, so reconnects spread out. */
export const STREAM_LIFETIME_JITTER = DEPLOYMENT_DEFAULTS.streamLifetimeJitter;
/** Below CloudFront's 30 s origin read timeout and most proxies' idle timeouts. */
export const HEARTBEAT_MS = DEPLOYMENT_DEFAULTS.heartbeatSeconds * 1000;
/** Stop this long before the Lambda deadline, to end on a complete event. */
export const DEADLINE_MARGIN_MS = 10_000;
/** Lambda streams the first 6 MB at full speed; stay under it. */
export const STREAM_BYTE_BUDGET = 5 * 1024 * 1024;
export const RETRY_MS = 1_000;
export const PAGE_SIZE = 100;
export const POLL_LIMIT = 100;
/** Keeps a poll answer far below Lambda's 6 MB buffered-response limit. */
export const POLL_MAX_BYTES = 4 * 1024 * 1024;
export const MAX_WAIT_SECONDS = 20;
export const MAX_CHANNELS = 16;
/**
 * Longest query string of a subscribe request, in bytes as re-encoded (414 above it).
 * Sixteen 128-character channels, a cursor and a token fit; browsers and CloudFront
 * allow more, but nothing this API reads needs it.
 */
export const MAX_QUERY_BYTES = 4096;

export interface SubscribeConfig {
  readonly retentionMs: number;
  readonly lifetimeMs: number;
  readonly lifetimeJitter: number;
  readonly heartbeatMs: number;
  readonly deadlineMarginMs: number;
  readonly byteBudget: number;
  readonly retryMs: number;
  readonly paddingBytes: number;
  readonly pageSize: number;
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
  readonly pollLimit: number;
  readonly pollMaxBytes: number;
  readonly maxWaitSeconds: number;
  readonly maxChannels: number;
  /** @default MAX_QUERY_BYTES */
  readonly maxQueryBytes?: number | undefined;
  readonly corsOrigins: CorsOrigins;
}

export const DEFAULT_SUBSCRIBE_CONFIG: SubscribeConfig = {
  retentionMs: DEFAULT_RETENTION_MS,
  lifetimeMs: STREAM_LIFETIME_MS,
  lifetimeJitter: STREAM_LIFETIME_JITTER,
  heartbeatMs: HEARTBEAT_MS,
  deadlineMarginMs: DEADLINE_MARGIN_MS,
  byteBudget: STREAM_BYTE_BUDGET,
  retryMs: RETRY_MS,
  paddingBytes: DEPLOYMENT_DEFAULTS.paddingBytes,
  pageSize: PAGE_SIZE,
  pollMinMs: DEFAULT_POLL_MIN_MS,
  pollMaxMs: DEFAULT_POLL_MAX_MS,
  pollLimit: POLL_LIMIT,
  pollMaxBytes: POLL_MAX_BYTES,
  maxWaitSeconds: MAX_WAIT_SECONDS,
  maxChannels: MAX_CHANNELS,
  corsOrigins: [],
};

/**
 * Reads the subscribe side's configuration from the environment (documented in
 * README, "Configuration"). Every error names the variable.
 */
export function readSubscribeConfig(env: Env): SubscribeConfig {
  const d = DEFAULT_SUBSCRIBE_CONFIG;
  const cors = list(env, ENV.corsOrigins);
  const config: SubscribeConfig = {
    retentionMs: positiveInteger(env, ENV.retentionSeconds, d.retentionMs / 1000) * 1000,
    lifetimeMs: positiveInteger(env, ENV.streamLifetimeSeconds, d.lifetimeMs / 1000) * 1000,
    lifetimeJitter: fraction(env, ENV.streamLifetimeJitter, d.lifetimeJitter),
    heartbeatMs: positiveInteger(env, ENV.heartbeatSeconds, d.heartbeatMs / 1000) * 1000,
    deadlineMarginMs: nonNegativeInteger(env, ENV.deadlineMarginMs, d.deadlineMarginMs),
    byteBudget: positiveInteger(env, ENV.streamByteBudget, d.byteBudget),
    retryMs: nonNegativeInteger(env, ENV.retryMs, d.retryMs),
    paddingBytes: nonNegativeInteger(env, ENV.paddingBytes, d.paddingBytes),
    pageSize: positiveInteger(env, ENV.pageSize, d.pageSize),
    pollMinMs: positiveInteger(env, ENV.pollMinMs, d.pollMinMs),
    pollMaxMs: positiveInteger(env, ENV.pollMaxMs, d.pollMaxMs),
    pollLimit: positiveInteger(env, ENV.pollLimit, d.pollLimit),
    pollMaxBytes: positiveInteger(env, ENV.pollMaxBytes, d.pollMaxBytes),
    maxWaitSeconds: nonNegativeInteger(env, ENV.maxWaitSeconds, d.maxWaitSeconds),
    maxChannels: positiveInteger(env, ENV.maxChannels, d.maxChannels),
    // Left out unless set, so the default lives in one place (MAX_QUERY_BYTES).
    ...(optionalString(env, ENV.maxQueryBytes) !== undefined && {
      maxQueryBytes: positiveInteger(env, ENV.maxQueryBytes, MAX_QUERY_BYTES),
    }),
    corsOrigins: optionalString(env, ENV.corsOrigins)?.trim() === '*' ? '*' : cors,
  };
  if (config.pollMaxMs < config.pollMinMs) {
    throw new ConfigError(
      `environment variable POLL_MAX_MS (${config.pollMaxMs}) must be at least POLL_MIN_MS (${config.pollMinMs})`,
    );
  }
  if (config.paddingBytes === 1) {
    throw new ConfigError('environment variable PADDING_BYTES must be 0 or at least 2, got "1"');
  }
  return config;
}
