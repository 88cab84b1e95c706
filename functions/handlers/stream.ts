/**
 * Lambda entry point of the subscribe side: a function URL in `RESPONSE_STREAM` mode
 * serving `GET /events` (Server-Sent Events) and `GET /poll` (JSON) from the DynamoDB
 * event log. Configuration: TABLE_NAME plus `readSubscribeConfig` and `readAuthConfig`
 * (README, "Configuration"), read once at cold start; a bad value fails the first
 * invocation with a message naming the variable. With `AUTH_SECRET_ARN`, the token
 * secret is fetched from Secrets Manager here, once, before the first request (top-level
 * await; a failure names the ARN).
 *
 * Logs name the path and channels only: never the query string (`?token=`), the
 * `Authorization` header or cookies. Stream metrics (embedded metric lines, namespace
 * POWERTOOLS_METRICS_NAMESPACE, `METRICS_CHANNEL_PREFIXES`) go out every minute while a
 * stream runs and when its invocation ends.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientConfig } from '../adapters/aws/client-config.js';
import { DynamoDBEventLog } from '../adapters/dynamodb/event-log.js';
import { flushPerInvocation } from '../adapters/lambda/flush-per-invocation.js';
import { createStreamingHandler, streamify } from '../adapters/lambda/http-adapter.js';
import {
  EmbeddedStreamMetrics,
  STREAM_METRICS_FLUSH_MS,
} from '../adapters/powertools/stream-metrics.js';
import { fetchSigningSecret } from '../adapters/secrets-manager/signing-secret.js';
import { authorizerFromConfig, readAuthConfig } from '../auth/auth-config.js';
import { readAwsCallLimits } from '../config/aws-call-limits.js';
import { requiredString } from '../config/env.js';
import { ENV } from '../config/environment.js';
import { readStreamMetricsConfig } from '../config/stream-metrics-config.js';
import { PollingFeed } from '../core/polling-feed.js';
import { createRouter } from '../http/router.js';
import { readSubscribeConfig } from '../http/subscribe-config.js';

const config = readSubscribeConfig(process.env);
const tableName = requiredString(process.env, ENV.tableName);
const auth = readAuthConfig(process.env);
const logger = new Logger();
const aws = awsClientConfig(readAwsCallLimits(process.env));
const metrics = new EmbeddedStreamMetrics({
  metrics: new Metrics(),
  channelPrefixes: readStreamMetricsConfig(process.env).channelPrefixes,
});

const secret =
  auth.secretArn === undefined
    ? auth.secret
    : await fetchSigningSecret(new SecretsManagerClient(aws), auth.secretArn);
const authorize = authorizerFromConfig(auth, { secret });

const eventLog = new DynamoDBEventLog({
  client: new DynamoDBClient(aws),
  tableName,
  retentionMs: config.retentionMs,
});

const router = createRouter({
  config,
  // One invocation serves one request, so each request polls the log on its own.
  feed: () => new PollingFeed(eventLog, { minMs: config.pollMinMs, maxMs: config.pollMaxMs }),
  clock: Date.now,
  random: Math.random,
  authorize,
  metrics,
  onError: (error, request) =>
    logger.error('request failed', {
      error: error instanceof Error ? error : String(error),
      path: request.path,
    }),
});

export const handler = streamify(
  flushPerInvocation(
    createStreamingHandler(router, {
      log: {
        info: (message, fields) => logger.info(message, fields),
        error: (message, fields) => logger.error(message, fields),
      },
    }),
    () => metrics.flush(),
    STREAM_METRICS_FLUSH_MS,
  ),
);
