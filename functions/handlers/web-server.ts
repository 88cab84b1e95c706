/**
 * Lambda Web Function entry of the subscribe side: one Node HTTP server holding many
 * streams, `GET /events` (Server-Sent Events) and `GET /poll` (JSON) from the DynamoDB
 * event log, with one shared poller per channel (`SharedFeed`) for every connection in
 * the environment. It listens on `AWS_LAMBDA_HTTP_ENDPOINT` and reads the same variables
 * as the stream function (`readSubscribeConfig`, `readAuthConfig`, the AWS call limits),
 * plus `REQUEST_TIMEOUT_SECONDS` (the revision's timeout) and `MAX_CONNECTIONS`
 * (README, "Configuration"). A bad value ends the process at start with a message naming
 * the variable.
 *
 * SIGTERM (the environment is being retired, with about a second to go): stop accepting,
 * end every stream after its last complete event so that its client reconnects, through
 * the endpoint, to another environment with its last id, then exit.
 *
 * Logs name the path and channels only: never the query string (`?token=`), the
 * `Authorization` header or cookies. Stream metrics (embedded metric lines, namespace
 * POWERTOOLS_METRICS_NAMESPACE, `METRICS_CHANNEL_PREFIXES`) go out every minute and at
 * shutdown.
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientConfig } from '../adapters/aws/client-config.js';
import { DynamoDBEventLog } from '../adapters/dynamodb/event-log.js';
import { startNewsFeed } from '../adapters/dynamodb/news-feed.js';
import { startSubscribeServer } from '../adapters/node/http-adapter.js';
import {
  EmbeddedStreamMetrics,
  STREAM_METRICS_FLUSH_MS,
} from '../adapters/powertools/stream-metrics.js';
import { fetchSigningSecret } from '../adapters/secrets-manager/signing-secret.js';
import { authorizerFromConfig, readAuthConfig } from '../auth/auth-config.js';
import { readAwsCallLimits } from '../config/aws-call-limits.js';
import { readChangeIndexConfig } from '../config/change-index-config.js';
import { DEFAULT_FILE_DESCRIPTOR_LIMIT, parseOpenFilesLimit } from '../config/connection-limits.js';
import { requiredString } from '../config/env.js';
import { ENV } from '../config/environment.js';
import { readStreamMetricsConfig } from '../config/stream-metrics-config.js';
import { readWebServerConfig } from '../config/web-server-config.js';
import type { Log } from '../core/log.js';
import { createRouter } from '../http/router.js';
import { readSubscribeConfig } from '../http/subscribe-config.js';

/** The soft open-files limit of this process (Linux), else a Web Function's 1,024. */
function openFilesLimit(): number {
  try {
    return (
      parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8')) ??
      DEFAULT_FILE_DESCRIPTOR_LIMIT
    );
  } catch {
    return DEFAULT_FILE_DESCRIPTOR_LIMIT;
  }
}

const logger = new Logger();
const config = readSubscribeConfig(process.env);
const host = readWebServerConfig(process.env, openFilesLimit());
const tableName = requiredString(process.env, ENV.tableName);
const auth = readAuthConfig(process.env);
const aws = awsClientConfig(readAwsCallLimits(process.env));
const changeIndex = readChangeIndexConfig(process.env);
const dynamo = new DynamoDBClient(aws);

const secret =
  auth.secretArn === undefined
    ? auth.secret
    : await fetchSigningSecret(new SecretsManagerClient(aws), auth.secretArn);
const authorize = authorizerFromConfig(auth, { secret });

const eventLog = new DynamoDBEventLog({
  client: dynamo,
  tableName,
  retentionMs: config.retentionMs,
});
// One poller per channel, whatever the number of connections reading it; with the
// change index, news comes from the index.
const log: Log = {
  info: (message, fields) => logger.info(message, fields),
  error: (message, fields) => logger.error(message, fields),
};
const { feed, close: closeFeed } = startNewsFeed({
  eventLog,
  client: dynamo,
  tableName,
  poll: { minMs: config.pollMinMs, maxMs: config.pollMaxMs },
  retentionMs: config.retentionMs,
  changeIndex,
  log,
});
const shutdown = new AbortController();
const metrics = new EmbeddedStreamMetrics({
  metrics: new Metrics(),
  channelPrefixes: readStreamMetricsConfig(process.env).channelPrefixes,
});
// One environment holds streams for its whole life: what gathered goes out each minute.
const flushTimer = setInterval(() => metrics.flush(), STREAM_METRICS_FLUSH_MS);
flushTimer.unref();

const router = createRouter({
  config,
  feed: () => feed,
  clock: Date.now,
  random: Math.random,
  authorize,
  shutdown: shutdown.signal,
  metrics,
  onError: (error, request) =>
    logger.error('request failed', {
      error: error instanceof Error ? error : String(error),
      path: request.path,
    }),
});

const server = await startSubscribeServer({
  router,
  host: host.listen.host,
  port: host.listen.port,
  ...(host.requestTimeoutMs !== undefined && { requestTimeoutMs: host.requestTimeoutMs }),
  connectionLimits: host.connectionLimits,
  onError: (error, request) =>
    logger.error('stream failed', {
      error: error instanceof Error ? error : String(error),
      path: request.path,
    }),
  onServerError: (error) => logger.error('server error', { error }),
  // A line when each stream starts and ends (request id, channels, reason, bytes, lag).
  log,
  onRefused: (status, code) => metrics.refused(status, code),
});
logger.info('listening', {
  url: server.url,
  maxConnections: host.connectionLimits.serve,
  requestTimeoutMs: host.requestTimeoutMs,
  changeIndexShards: changeIndex?.shards,
});

process.once('SIGTERM', () => {
  const open = server.connections();
  shutdown.abort();
  void server
    .drain(host.shutdownGraceMs)
    .catch((error: unknown) => logger.error('shutdown failed', { error: String(error) }))
    .finally(() => {
      closeFeed();
      clearInterval(flushTimer);
      metrics.flush();
      logger.info('shut down', { connections: open });
      process.exit(0);
    });
});
