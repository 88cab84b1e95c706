/**
 * Lambda entry point of the writer: SNS → SQS → this function → the DynamoDB event log.
 * Configuration: see `readWriterConfig` (TABLE_NAME, DEAD_LETTER_QUEUE_URL,
 * RETENTION_SECONDS, MAX_PAYLOAD_BYTES).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../adapters/aws/client-config.js';
import { DynamoDBChangeIndex } from '../adapters/dynamodb/change-index.js';
import { DynamoDBEventLog } from '../adapters/dynamodb/event-log.js';
import { powertoolsWriterMetrics } from '../adapters/powertools/writer-metrics.js';
import { SqsDeadLetterSink } from '../adapters/sqs/dead-letter-sink.js';
import { createWriterHandler } from '../adapters/sqs/writer-event-source.js';
import { readAwsCallLimits } from '../config/aws-call-limits.js';
import { readChangeIndexConfig } from '../config/change-index-config.js';
import { readWriterConfig } from '../writer/config.js';

const config = readWriterConfig(process.env);
const logger = new Logger();
const metrics = new Metrics();
const aws = awsClientConfig(readAwsCallLimits(process.env));
const changeIndex = readChangeIndexConfig(process.env);
const dynamo = new DynamoDBClient(aws);

export const handler = createWriterHandler({
  eventLog: new DynamoDBEventLog({
    client: dynamo,
    tableName: config.tableName,
    retentionMs: config.retentionMs,
    // Servers holding many channels learn of news from it (CHANGE_INDEX_SHARDS).
    ...(changeIndex !== undefined && {
      changes: new DynamoDBChangeIndex({
        client: dynamo,
        tableName: config.tableName,
        shards: changeIndex.shards,
      }),
      onChangeError: (error: unknown, channel: string) =>
        logger.warn('change index entry not written; readers fall back to their safety sweep', {
          channel,
          error: error instanceof Error ? error : String(error),
        }),
    }),
  }),
  deadLetters: new SqsDeadLetterSink({
    client: new SQSClient(aws),
    queueUrl: config.deadLetterQueueUrl,
  }),
  log: {
    info: (message, fields) => logger.info(message, fields),
    error: (message, fields) => logger.error(message, fields),
  },
  metrics: powertoolsWriterMetrics(metrics),
  maxPayloadBytes: config.maxPayloadBytes,
  flush: () => metrics.publishStoredMetrics(),
});
