/**
 * The stream metrics' settings (README, "Configuration"): `METRICS_CHANNEL_PREFIXES`,
 * a comma-separated list of channel prefixes whose channels are also counted with a
 * `Channel` dimension. Unset: no per-channel metrics (each dimension value is a metric
 * of its own in CloudWatch).
 */
import { ConfigError, type Env, list } from './env.js';
import { ENV } from './environment.js';

export interface StreamMetricsConfig {
  readonly channelPrefixes: readonly string[];
}

/** More prefixes than this is no longer "chosen prefixes". */
export const MAX_METRICS_CHANNEL_PREFIXES = 10;

export function readStreamMetricsConfig(env: Env): StreamMetricsConfig {
  const channelPrefixes = list(env, ENV.metricsChannelPrefixes);
  if (channelPrefixes.length > MAX_METRICS_CHANNEL_PREFIXES) {
    throw new ConfigError(
      `environment variable ${ENV.metricsChannelPrefixes} names ${channelPrefixes.length} prefixes; at most ${MAX_METRICS_CHANNEL_PREFIXES}`,
    );
  }
  return { channelPrefixes };
}
