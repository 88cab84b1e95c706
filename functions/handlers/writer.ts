/**
 * Lambda entry point of the writer: SNS → SQS → this function → the DynamoDB event log.
 * Configuration: see `readWriterConfig` (TABLE_NAME, DEAD_LETTER_QUEUE_URL,
 * RETENTION_SECONDS, MAX_PAYLOAD_BYTES).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBEventLog } from '../adapters/dynamodb/event-log.js';
import { powertoolsWriterMetrics } from '../adapters/powertools/writer-metrics.js';
import { SqsDeadLetterSink } from '../adapters/sqs/dead-letter-sink.js';
import { createWriterHandler } from '../adapters/sqs/writer-event-source.js';
import { readWriterConfig } from '../writer/config.js';

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
