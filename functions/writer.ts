/**
 * Lambda entry point of the writer: SNS → SQS → this function → the DynamoDB event log.
 * Configuration: see `readWriterConfig` (TABLE_NAME, DEAD_LETTER_QUEUE_URL,
 * RETENTION_SECONDS, MAX_PAYLOAD_BYTES).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBEventLog } from './aws/dynamodb-event-log.js';
import { powertoolsWriterMetrics } from './aws/powertools-writer-metrics.js';
import { SqsDeadLetterSink } from './aws/sqs-dead-letter-sink.js';
import { readWriterConfig } from './writer/config.js';
import { createWriterHandler } from './writer/handler.js';

const config = readWriterConfig(process.env);
const logger = new Logger();
const metrics = new Metrics();

export const handler = createWriterHandler({
  eventLog: new DynamoDBEventLog({
    client: new DynamoDBClient({}),
    tableName: config.tableName,
    retentionMs: config.retentionMs,
  }),
  deadLetters: new SqsDeadLetterSink({
    client: new SQSClient({}),
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
