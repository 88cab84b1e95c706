/**
 * The configuration every AWS SDK client of the functions is built with: bounded
 * connection and request times, and a bounded number of attempts, so that a stalled
 * service fails a call (which the caller logs and answers for) instead of hanging it.
 */
import type { AwsCallLimits } from '../../config/aws-call-limits.js';

export interface AwsClientConfig {
  readonly maxAttempts: number;
  readonly requestHandler: {
    readonly connectionTimeout: number;
    readonly requestTimeout: number;
    // Without it the SDK only logs a warning when the request time runs out.
    readonly throwOnRequestTimeout: true;
  };
}

export function awsClientConfig(limits: AwsCallLimits): AwsClientConfig {
  return {
    maxAttempts: limits.maxAttempts,
    requestHandler: {
      connectionTimeout: limits.connectionTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  };
}
