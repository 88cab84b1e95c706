import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SAFETY_POLL_SECONDS,
  readChangeIndexConfig,
} from '../../../../functions/config/change-index-config.js';
import { DEFAULT_CHANGE_POLL } from '../../../../functions/core/change-index.js';

describe('Function: readChangeIndexConfig', () => {
  it('is off unless CHANGE_INDEX_SHARDS is set', () => {
    expect(readChangeIndexConfig({})).toBeUndefined();
    expect(readChangeIndexConfig({ CHANGE_INDEX_SHARDS: ' ' })).toBeUndefined();
  });

  it('takes the defaults with the shards alone', () => {
    expect(readChangeIndexConfig({ CHANGE_INDEX_SHARDS: '1' })).toEqual({
      shards: 1,
      pollMinMs: DEFAULT_CHANGE_POLL.minMs,
      pollMaxMs: DEFAULT_CHANGE_POLL.maxMs,
      safetyPollMs: DEFAULT_SAFETY_POLL_SECONDS * 1000,
    });
  });

  it('reads every variable and names the wrong one', () => {
    expect(
      readChangeIndexConfig({
        CHANGE_INDEX_SHARDS: '4',
        CHANGE_POLL_MIN_MS: '50',
        CHANGE_POLL_MAX_MS: '500',
        SAFETY_POLL_SECONDS: '30',
      }),
    ).toEqual({ shards: 4, pollMinMs: 50, pollMaxMs: 500, safetyPollMs: 30_000 });
    expect(() => readChangeIndexConfig({ CHANGE_INDEX_SHARDS: '0' })).toThrow(
      'CHANGE_INDEX_SHARDS must be a positive integer, got "0"',
    );
    expect(() => readChangeIndexConfig({ CHANGE_INDEX_SHARDS: '101' })).toThrow(
      'CHANGE_INDEX_SHARDS must be at most 100',
    );
    expect(() =>
      readChangeIndexConfig({
        CHANGE_INDEX_SHARDS: '1',
        CHANGE_POLL_MIN_MS: '900',
        CHANGE_POLL_MAX_MS: '100',
      }),
    ).toThrow('CHANGE_POLL_MAX_MS (100) must be at least CHANGE_POLL_MIN_MS (900)');
    expect(() =>
      readChangeIndexConfig({ CHANGE_INDEX_SHARDS: '1', SAFETY_POLL_SECONDS: 'x' }),
    ).toThrow('SAFETY_POLL_SECONDS must be a positive integer');
  });
});
