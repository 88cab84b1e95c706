/**
 * `@serverless-sse-pubsub/cdk`: the pub/sub system as a construct for your own CDK app
 * ({@link SsePubSub}), and as a ready stack with the outputs clients need
 * ({@link SsePubSubStack}). The Lambda functions ship prebuilt in the package.
 */
export {
  ALARM_PERIOD,
  CLOUDFRONT_ORIGIN_READ_TIMEOUT,
  DEAD_LETTER_RETENTION,
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_MAX_RECEIVE_COUNT,
  DEFAULT_POLL_INTERVAL,
  DEFAULT_RETENTION,
  DEFAULT_STREAM_LIFETIME,
  DEFAULT_STREAM_MEMORY_MB,
  DEFAULT_WRITER_BATCH_SIZE,
  DEFAULT_WRITER_MEMORY_MB,
  LAMBDA_MAX_TIMEOUT,
  METRICS_NAMESPACE,
  type PollIntervalProps,
  QUEUE_AGE_THRESHOLD,
  SsePubSub,
  type SsePubSubAlarms,
  type SsePubSubAuthProps,
  type SsePubSubCloudFrontProps,
  SsePubSubConfigError,
  type SsePubSubJwksProps,
  type SsePubSubProps,
  STREAM_TIMEOUT_HEADROOM,
  TOKEN_SECRET_LENGTH,
  WRITER_SERVICE_NAME,
  WRITER_TIMEOUT,
} from './sse-pub-sub.js';
export { SsePubSubStack, type SsePubSubStackProps } from './sse-pub-sub-stack.js';
