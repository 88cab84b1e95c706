/**
 * How long one AWS call may take and how often it is tried, read from the environment.
 * The SDK's own defaults are no connection or request timeout at all, so a store that
 * accepts connections and never answers would hold a stream, a poll or a writer batch
 * until Lambda kills the invocation.
 */
import { type Env, positiveInteger } from './env.js';
import { DEPLOYMENT_DEFAULTS, ENV } from './environment.js';

export interface AwsCallLimits {
  /** Longest wait for a connection to be set up, ms. */
  readonly connectionTimeoutMs: number;
  /** Longest wait for a whole request and its response, ms, per attempt. */
  readonly requestTimeoutMs: number;
  /** Attempts per call, the first included (the SDK retries throttles and 5xx). */
  readonly maxAttempts: number;
}

export const DEFAULT_AWS_CALL_LIMITS: AwsCallLimits = {
  connectionTimeoutMs: DEPLOYMENT_DEFAULTS.awsConnectionTimeoutMs,
  requestTimeoutMs: DEPLOYMENT_DEFAULTS.awsRequestTimeoutMs,
  maxAttempts: DEPLOYMENT_DEFAULTS.awsMaxAttempts,
};

export function readAwsCallLimits(env: Env): AwsCallLimits {
  const d = DEFAULT_AWS_CALL_LIMITS;
  return {
    connectionTimeoutMs: positiveInteger(env, ENV.awsConnectionTimeoutMs, d.connectionTimeoutMs),
    requestTimeoutMs: positiveInteger(env, ENV.awsRequestTimeoutMs, d.requestTimeoutMs),
    maxAttempts: positiveInteger(env, ENV.awsMaxAttempts, d.maxAttempts),
  };
}
