import { describe, expect, it } from 'vitest';
import {
  MAX_METRICS_CHANNEL_PREFIXES,
  readStreamMetricsConfig,
} from '../../../../functions/config/stream-metrics-config.js';

describe('Function: readStreamMetricsConfig', () => {
  it('has no per-channel prefixes unless METRICS_CHANNEL_PREFIXES is set', () => {
    expect(readStreamMetricsConfig({})).toEqual({ channelPrefixes: [] });
    expect(readStreamMetricsConfig({ METRICS_CHANNEL_PREFIXES: ' ' })).toEqual({
      channelPrefixes: [],
    });
  });

  it('reads a comma-separated list, trimmed', () => {
    expect(readStreamMetricsConfig({ METRICS_CHANNEL_PREFIXES: 'ops/, vip/' })).toEqual({
      channelPrefixes: ['ops/', 'vip/'],
    });
  });

  it('refuses more prefixes than the bound, naming the variable', () => {
    const many = Array.from({ length: MAX_METRICS_CHANNEL_PREFIXES + 1 }, (_, i) => `p${i}/`);
    expect(() => readStreamMetricsConfig({ METRICS_CHANNEL_PREFIXES: many.join(',') })).toThrow(
      /METRICS_CHANNEL_PREFIXES names 11 prefixes; at most 10/,
    );
  });
});
