import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../functions/config/env.js';
import { readWriterConfig } from '../../../../functions/writer/config.js';

const base = { TABLE_NAME: 'events', DEAD_LETTER_QUEUE_URL: 'https://queue.example/dlq' };

describe('Function: readWriterConfig', () => {
  it('applies the documented defaults', () => {
    expect(readWriterConfig(base)).toEqual({
      tableName: 'events',
      deadLetterQueueUrl: 'https://queue.example/dlq',
      retentionMs: 86_400_000,
      maxPayloadBytes: 262_144,
    });
  });

  it('reads retention in seconds', () => {
    expect(readWriterConfig({ ...base, RETENTION_SECONDS: '7200' }).retentionMs).toBe(7_200_000);
  });

  it.each([
    [{ DEAD_LETTER_QUEUE_URL: 'u' }, 'environment variable TABLE_NAME is required'],
    [
      { TABLE_NAME: 't', DEAD_LETTER_QUEUE_URL: ' ' },
      'environment variable DEAD_LETTER_QUEUE_URL is required',
    ],
    [
      { ...base, RETENTION_SECONDS: '1h' },
      'environment variable RETENTION_SECONDS must be a positive integer, got "1h"',
    ],
    [
      { ...base, RETENTION_SECONDS: '0' },
      'environment variable RETENTION_SECONDS must be a positive integer, got "0"',
    ],
    [
      { ...base, MAX_PAYLOAD_BYTES: '-5' },
      'environment variable MAX_PAYLOAD_BYTES must be a positive integer, got "-5"',
    ],
  ])('names the bad variable in %j', (env, message) => {
    expect(() => readWriterConfig(env)).toThrow(new ConfigError(message));
  });
});
