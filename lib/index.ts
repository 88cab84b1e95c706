/**
 * `@serverless-sse-pubsub/cdk`: the pub/sub system as a construct for your own CDK app
 * ({@link SsePubSub}), and as a ready stack with the outputs clients need
 * ({@link SsePubSubStack}). The Lambda functions ship prebuilt in the package.
 */
export {
  DEFAULT_MAX_TOKEN_LIFETIME,
  type SsePubSubAuthProps,
  type SsePubSubJwksProps,
  TOKEN_SECRET_LENGTH,
} from './auth.js';
export { SsePubSubConfigError } from './errors.js';
export {
  ALARM_PERIOD,
  METRICS_NAMESPACE,
  QUEUE_AGE_THRESHOLD,
  type SsePubSubAlarms,
  STREAM_CONCURRENCY_ALARM_RATIO,
  streamConcurrencyThreshold,
  WRITER_SERVICE_NAME,
} from './monitoring.js';
export {
  DEAD_LETTER_RETENTION,
  DEADLINE_MARGIN,
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_MAX_RECEIVE_COUNT,
  DEFAULT_MAX_STREAMS,
  DEFAULT_POLL_INTERVAL,
  DEFAULT_RETENTION,
  DEFAULT_STREAM_LIFETIME,
  DEFAULT_STREAM_MEMORY_MB,
  DEFAULT_WEB_FUNCTION_MAX_CONCURRENCY,
  DEFAULT_WRITER_BATCH_SIZE,
  DEFAULT_WRITER_MEMORY_MB,
  DEFAULT_WRITER_RESERVED_CONCURRENCY,
  LAMBDA_MAX_TIMEOUT,
  type PollIntervalProps,
  type SsePubSubProps,
  type SsePubSubSubscribeHost,
  type SsePubSubWebFunctionProps,
  STREAM_TIMEOUT_HEADROOM,
  WEB_FUNCTION_CONCURRENCY_RANGE,
  WEB_FUNCTION_MIN_ENVIRONMENTS,
  WEB_FUNCTION_TIMEOUT_RANGE,
  WRITER_CONCURRENCY_RANGE,
  WRITER_TIMEOUT,
} from './props.js';
export { SsePubSub } from './sse-pub-sub.js';
export { SsePubSubStack, type SsePubSubStackProps } from './sse-pub-sub-stack.js';
export {
  CLOUDFRONT_ORIGIN_READ_TIMEOUT,
  type SsePubSubCloudFrontProps,
} from './stream-distribution.js';
