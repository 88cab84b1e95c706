/**
 * The environment contract between the construct and the functions: every variable by
 * the name `lib/` writes and the config readers read, and every deployment default both
 * sides assume. It imports nothing, so the construct, the functions, the local stack and
 * the benchmarks can all take their names and numbers from here without pulling in each
 * other (the bench must not load aws-cdk-lib, a bundle must not load the construct).
 */

/** Environment variables, by what they configure. */
export const ENV = {
  // Both functions.
  /** The event-log table's name. */
  tableName: 'TABLE_NAME',
  /** How long events stay readable, seconds. */
  retentionSeconds: 'RETENTION_SECONDS',

  // The writer.
  /** The queue rejected messages go to. */
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  /** Largest payload stored, bytes. */
  maxPayloadBytes: 'MAX_PAYLOAD_BYTES',

  // The subscribe routes.
  streamLifetimeSeconds: 'STREAM_LIFETIME_SECONDS',
  streamLifetimeJitter: 'STREAM_LIFETIME_JITTER',
  heartbeatSeconds: 'HEARTBEAT_SECONDS',
  deadlineMarginMs: 'DEADLINE_MARGIN_MS',
  streamByteBudget: 'STREAM_BYTE_BUDGET',
  retryMs: 'RETRY_MS',
  paddingBytes: 'PADDING_BYTES',
  pageSize: 'PAGE_SIZE',
  pollMinMs: 'POLL_MIN_MS',
  pollMaxMs: 'POLL_MAX_MS',
  pollLimit: 'POLL_LIMIT',
  pollMaxBytes: 'POLL_MAX_BYTES',
  maxWaitSeconds: 'MAX_WAIT_SECONDS',
  maxChannels: 'MAX_CHANNELS',
  maxQueryBytes: 'MAX_QUERY_BYTES',
  corsOrigins: 'CORS_ORIGINS',
  /** Channel prefixes whose channels get their own `Channel` metrics dimension. */
  metricsChannelPrefixes: 'METRICS_CHANNEL_PREFIXES',

  // Access control of the subscribe routes.
  authPrivatePrefixes: 'AUTH_PRIVATE_PREFIXES',
  authSecret: 'AUTH_SECRET',
  authSecretArn: 'AUTH_SECRET_ARN',
  authJwksUrl: 'AUTH_JWKS_URL',
  authIssuer: 'AUTH_ISSUER',
  authAudience: 'AUTH_AUDIENCE',
  authCookieName: 'AUTH_COOKIE_NAME',
  /** Longest token lifetime the verifier accepts, seconds. */
  authMaxTokenLifetimeSeconds: 'AUTH_MAX_TOKEN_LIFETIME_SECONDS',

  // Every AWS call of the functions (functions/config/aws-call-limits.ts).
  awsConnectionTimeoutMs: 'AWS_CALL_CONNECTION_TIMEOUT_MS',
  awsRequestTimeoutMs: 'AWS_CALL_REQUEST_TIMEOUT_MS',
  awsMaxAttempts: 'AWS_CALL_MAX_ATTEMPTS',

  // The change index (functions/core/change-index.ts): written by the writer, read by
  // servers holding many channels (the Web Function host, the local stack).
  /** Shards of the index; set on both sides, unset means no index. */
  changeIndexShards: 'CHANGE_INDEX_SHARDS',
  /** Bounds of the index's adaptive read interval, ms. */
  changePollMinMs: 'CHANGE_POLL_MIN_MS',
  changePollMaxMs: 'CHANGE_POLL_MAX_MS',
  /** With the index, the safety sweep's interval (all held channels' heads), seconds. */
  safetyPollSeconds: 'SAFETY_POLL_SECONDS',

  // The Web Function host of the subscribe routes (functions/handlers/web-server.ts).
  /** Set by Lambda: the host:port the server listens on. */
  lambdaHttpEndpoint: 'AWS_LAMBDA_HTTP_ENDPOINT',
  /** The revision's timeout, seconds: each request's deadline, as a stream sees it. */
  requestTimeoutSeconds: 'REQUEST_TIMEOUT_SECONDS',
  /** Client connections one environment serves before answering 503. */
  maxConnections: 'MAX_CONNECTIONS',

  // Read by Powertools and Node, written by the construct.
  powertoolsServiceName: 'POWERTOOLS_SERVICE_NAME',
  powertoolsMetricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  nodeOptions: 'NODE_OPTIONS',

  // The local stack (`npm start`) only.
  dataDir: 'DATA_DIR',
  topicArn: 'TOPIC_ARN',
  port: 'PORT',
  host: 'HOST',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/**
 * What a deployment gets unless its props say otherwise, and what a function assumes when
 * its variable is unset. Each figure is defended where it is used (lib/ and the readers).
 */
export const DEPLOYMENT_DEFAULTS = {
  retentionSeconds: 24 * 60 * 60,
  writerMemoryMb: 256,
  writerBatchSize: 10,
  maxReceiveCount: 5,
  streamMemoryMb: 128,
  streamLifetimeSeconds: 5 * 60,
  streamLifetimeJitter: 0.2,
  heartbeatSeconds: 15,
  /**
   * How often the subscribe routes write their gathered metrics: CloudWatch's standard
   * one-minute period, which the dashboard's open-streams sum relies on.
   */
  streamMetricsFlushSeconds: 60,
  pollMinMs: 200,
  pollMaxMs: 1_000,
  paddingBytes: 0,
  // Chosen, not AWS figures: a DynamoDB read or write answers in milliseconds, so seconds
  // only pass when the service has stalled; 3 attempts is the SDK's own default.
  awsConnectionTimeoutMs: 1_000,
  awsRequestTimeoutMs: 3_000,
  awsMaxAttempts: 3,
  /** The publisher SDK's longest TTL (`MAX_TOKEN_TTL_SECONDS`): what it mints, the verifier accepts. */
  authMaxTokenLifetimeSeconds: 24 * 60 * 60,
  // Reserved concurrency of the writer and of the stream function (the most concurrent
  // streams): choices, defended in lib/props.ts.
  writerReservedConcurrency: 5,
  maxStreams: 100,
} as const;
