import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TABLE_KEYS, TTL_ATTRIBUTE } from '../functions/aws/event-log-table.js';

/** Events stay readable for 24 hours unless configured otherwise. */
export const DEFAULT_RETENTION = Duration.hours(24);
export const DEFAULT_WRITER_MEMORY_MB = 256;
/** Long enough for a batch of transactional appends, short enough to redeliver quickly. */
export const WRITER_TIMEOUT = Duration.seconds(30);
export const DEFAULT_WRITER_BATCH_SIZE = 10;
export const DEFAULT_MAX_RECEIVE_COUNT = 5;
/** The longest SQS keeps a message: time for a human to inspect and redrive. */
export const DEAD_LETTER_RETENTION = Duration.days(14);
/**
 * AWS recommends a source queue visibility timeout of at least six times the function
 * timeout, so that throttled retries of a batch do not make its messages visible again.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Paths are resolved from this module, so the construct works from any working directory. */
const WRITER_ENTRY = fileURLToPath(new URL('../functions/writer.ts', import.meta.url));

/**
 * ESM bundles cannot call `require`, yet some CommonJS dependencies do (for Node
 * built-ins); esbuild's `__require` shim finds this one.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __ssePubSubCreateRequire } from 'node:module'; const require = __ssePubSubCreateRequire(import.meta.url);";

export interface SsePubSubProps {
  /**
   * How long events stay readable in the event log. Items expire through DynamoDB TTL,
   * and readers filter expired items themselves because TTL deletion is lazy.
   *
   * @default Duration.hours(24)
   */
  readonly retention?: Duration;

  /**
   * Memory of the writer function, in MB.
   *
   * @default 256
   */
  readonly writerMemorySize?: number;

  /**
   * Instruction set of the functions.
   *
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;

  /**
   * What happens to the event log table and the writer's log group when they leave
   * the stack. The queues hold only messages in flight and are always destroyed.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Most SQS messages given to one writer invocation. A batch is grouped by channel so
   * that one transaction appends many events.
   *
   * @default 10
   */
  readonly writerBatchSize?: number;

  /**
   * Deliveries of a message before it moves to the dead-letter queue.
   *
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * Retention of the functions' CloudWatch log groups.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Serverless pub/sub: publishers call SNS `Publish` on {@link SsePubSub.topic}; an SQS
 * queue buffers the messages for the writer function, which appends each event to a
 * per-channel event log in DynamoDB. Messages that break the publishing contract go
 * to the dead-letter queue with a reason, as do messages that keep failing.
 */
export class SsePubSub extends Construct {
  /** The event log: partition key `channel`, sort key `position`, TTL on `ttl`. */
  public readonly table: dynamodb.Table;
  /** Where publishers send events. */
  public readonly topic: sns.Topic;
  /** Buffers the topic's messages (SNS envelopes, not raw) for the writer. */
  public readonly queue: sqs.Queue;
  /** Invalid messages, and messages the writer failed on `maxReceiveCount` times. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Appends the queue's messages to the event log. */
  public readonly writer: NodejsFunction;

  constructor(scope: Construct, id: string, props: SsePubSubProps = {}) {
    super(scope, id);

    const retention = props.retention ?? DEFAULT_RETENTION;
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const batchSize = props.writerBatchSize ?? DEFAULT_WRITER_BATCH_SIZE;
    const maxReceiveCount = props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT;

    if (retention.toSeconds() < 1) {
      throw new Error(
        `SsePubSub: retention must be at least 1 second, got ${retention.toHumanString()}`,
      );
    }

    this.table = new dynamodb.Table(this, 'EventLog', {
      partitionKey: { name: TABLE_KEYS.partition, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sort, type: dynamodb.AttributeType.NUMBER },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
    });

    this.topic = new sns.Topic(this, 'Topic', { enforceSSL: true });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(WRITER_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    // Not raw: the writer needs the envelope's MessageId, the default dedupe key.
    this.topic.addSubscription(
      new subscriptions.SqsSubscription(this.queue, { rawMessageDelivery: false }),
    );

    const writerLogGroup = new logs.LogGroup(this, 'WriterLogGroup', {
      retention: logRetention,
      removalPolicy,
    });

    // Own role instead of the default one with AWSLambdaBasicExecutionRole, whose logs
    // permissions reach every log group in the account.
    const writerRole = new iam.Role(this, 'WriterRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'SSE pub/sub writer: appends to the event log, dead-letters bad messages',
    });
    writerLogGroup.grantWrite(writerRole);

    this.writer = new NodejsFunction(this, 'Writer', {
      description: 'Appends SNS events from the queue to the SSE pub/sub event log',
      entry: WRITER_ENTRY,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture,
      memorySize: props.writerMemorySize ?? DEFAULT_WRITER_MEMORY_MB,
      timeout: WRITER_TIMEOUT,
      logGroup: writerLogGroup,
      role: writerRole,
      environment: {
        TABLE_NAME: this.table.tableName,
        DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
        RETENTION_SECONDS: String(retention.toSeconds()),
        POWERTOOLS_SERVICE_NAME: 'sse-pubsub-writer',
        POWERTOOLS_METRICS_NAMESPACE: 'SsePubSub',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        // Bundle the AWS SDK rather than use the runtime's, to pin its version.
        externalModules: [],
        forceDockerBundling: false,
      },
    });

    // Least privilege, spelled out rather than granted through table.grantWriteData():
    // the writer reads the channel head and dedupe markers, and appends through
    // conditional puts and updates; it never queries, scans or deletes.
    this.writer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [this.table.tableArn],
      }),
    );
    // Invalid messages go straight to the dead-letter queue, with their reason.
    this.writer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: [this.deadLetterQueue.queueArn],
      }),
    );

    this.writer.addEventSource(
      new SqsEventSource(this.queue, { batchSize, reportBatchItemFailures: true }),
    );
  }

  /** Lets `grantee` publish events to the topic. */
  public grantPublish(grantee: iam.IGrantable): iam.Grant {
    return this.topic.grantPublish(grantee);
  }
}
