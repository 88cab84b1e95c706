import { describe, expect, it } from 'vitest';
import {
  DEFAULT_AWS_CALL_LIMITS,
  readAwsCallLimits,
} from '../../../../functions/config/aws-call-limits.js';
import { ConfigError } from '../../../../functions/config/env.js';

describe('Function: readAwsCallLimits', () => {
  it('bounds every call by default', () => {
    const limits = readAwsCallLimits({});
    expect(limits).toEqual(DEFAULT_AWS_CALL_LIMITS);
    expect(limits.connectionTimeoutMs).toBeGreaterThan(0);
    expect(limits.requestTimeoutMs).toBeGreaterThan(0);
    expect(limits.maxAttempts).toBeGreaterThan(0);
  });

  it('reads each limit from its variable', () => {
    expect(
      readAwsCallLimits({
        AWS_CALL_CONNECTION_TIMEOUT_MS: '500',
        AWS_CALL_REQUEST_TIMEOUT_MS: '2000',
        AWS_CALL_MAX_ATTEMPTS: '5',
      }),
    ).toEqual({ connectionTimeoutMs: 500, requestTimeoutMs: 2000, maxAttempts: 5 });
  });

  it('names the variable of a bad value', () => {
    expect(() => readAwsCallLimits({ AWS_CALL_REQUEST_TIMEOUT_MS: 'soon' })).toThrow(ConfigError);
    expect(() => readAwsCallLimits({ AWS_CALL_REQUEST_TIMEOUT_MS: 'soon' })).toThrow(
      /AWS_CALL_REQUEST_TIMEOUT_MS/,
    );
    expect(() => readAwsCallLimits({ AWS_CALL_MAX_ATTEMPTS: '0' })).toThrow(
      /AWS_CALL_MAX_ATTEMPTS/,
    );
  });
});
