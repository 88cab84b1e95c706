/**
 * The `SsePubSub` construct: wires the topic, queues, event log, functions, access
 * control, distribution and monitoring together.
 */
import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TABLE_KEYS, TTL_ATTRIBUTE } from '../functions/adapters/dynamodb/table.js';
import { ENV } from '../functions/config/environment.js';
import { secretPolicyArn, streamAuth } from './auth.js';
import { SsePubSubConfigError } from './errors.js';
import { bundledFunction } from './function-bundles.js';
import {
  METRICS_NAMESPACE,
  type SsePubSubAlarms,
  SsePubSubMonitoring,
  STREAM_SERVICE_NAME,
  WRITER_SERVICE_NAME,
} from './monitoring.js';
import { acknowledgeRuleFindings } from './nag-acknowledgements.js';
import {
  DEAD_LETTER_RETENTION,
  DEFAULT_MAX_RECEIVE_COUNT,
  DEFAULT_STREAM_MEMORY_MB,
  DEFAULT_WRITER_BATCH_SIZE,
  DEFAULT_WRITER_MEMORY_MB,
  type SsePubSubProps,
  WRITER_TIMEOUT,
} from './props.js';
import { createStreamDistribution } from './stream-distribution.js';
import {
  alarmEmailsSetting,
  concurrencySettings,
  fifoSetting,
  loggingSettings,
  retentionSetting,
  streamSettings,
} from './validation.js';

/**
 * AWS recommends a source queue visibility timeout of at least six times the function
 * timeout, so that throttled retries of a batch do not make its messages visible again.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
const VISIBILITY_TIMEOUT_FACTOR = 6;

/**
 * Serverless pub/sub: publishers call SNS `Publish` on {@link SsePubSub.topic}; an SQS
 * queue buffers the messages for the writer function, which appends each event to a
 * per-channel event log in DynamoDB. Messages that break the publishing contract go
 * to the dead-letter queue with a reason, as do messages that keep failing.
 * Subscribers read the log through the stream function's URL ({@link SsePubSub.streamUrl}):
 * `GET /events` as Server-Sent Events, `GET /poll` as JSON.
 *
 * Options: a FIFO variant (order kept per channel), an existing topic, private channels
 * with signed tokens, a CloudFront distribution in front. Always: alarms on the
 * dead-letter queue, rejections, queue age, function errors and throttles, streams
 * nearing `maxStreams` and DynamoDB throttling, and one dashboard. Both functions have
 * reserved concurrency, so open streams cannot starve the writer. Deployment guide:
 * docs/deploy.md.
 */
export class SsePubSub extends Construct {
  /** The event log: partition key `channel`, sort key `position`, TTL on `ttl`. */
  public readonly table: dynamodb.Table;
  /** Where publishers send events: the topic created here, or the `topic` prop. */
  public readonly topic: sns.ITopic;
  /** Whether the topic and the queues are FIFO. */
  public readonly fifo: boolean;
  /** Buffers the topic's messages (SNS envelopes, not raw) for the writer. */
  public readonly queue: sqs.Queue;
  /** Invalid messages, and messages the writer failed on `maxReceiveCount` times. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Appends the queue's messages to the event log. */
  public readonly writer: lambda.Function;
  /** Serves subscribers from the event log, streaming its response; reads only. */
  public readonly streamFunction: lambda.Function;
  /** The stream function's URL, in `RESPONSE_STREAM` mode. */
  public readonly functionUrl: lambda.FunctionUrl;
  /**
   * Where subscribers connect, ending in `/`: the distribution's URL with `cloudFront`
   * (`https://d….cloudfront.net/`, or the first of `domainNames`), else the function
   * URL (`https://….lambda-url.<region>.on.aws/`).
   */
  public readonly streamUrl: string;
  /** The CloudFront distribution in front of the function URL, with `cloudFront`. */
  public readonly distribution?: cloudfront.Distribution;
  /**
   * The HS256 secret subscriber tokens are signed with, with `auth` (unless it sets
   * only `jwks`). Backend services read it through {@link grantTokenSigning}.
   */
  public readonly tokenSecret?: secretsmanager.ISecret;
  /** The alarms, by what they watch; they notify {@link alarmTopic} when there is one. */
  public readonly alarms: SsePubSubAlarms;
  /**
   * Where the alarms send their notifications: the `alarmTopic` prop, or the topic made
   * for `alarmEmails`. Without either, the alarms notify nobody.
   */
  public readonly alarmTopic?: sns.ITopic;
  /** One CloudWatch dashboard: events, queues, writer, streams, DynamoDB, alarms. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: SsePubSubProps = {}) {
    super(scope, id);

    const retention = retentionSetting(props);
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const batchSize = props.writerBatchSize ?? DEFAULT_WRITER_BATCH_SIZE;
    const maxReceiveCount = props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT;

    const stream = streamSettings(props);
    const logging = loggingSettings(props);
    const concurrency = concurrencySettings(props);
    const alarmEmails = alarmEmailsSetting(props);
    this.fifo = fifoSetting(this, props);

    this.table = new dynamodb.Table(this, 'EventLog', {
      partitionKey: { name: TABLE_KEYS.partition, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sort, type: dynamodb.AttributeType.NUMBER },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
    });

    this.topic =
      props.topic ??
      new sns.Topic(this, 'Topic', {
        enforceSSL: true,
        ...(this.fifo && {
          fifo: true,
          // Publishers always send a MessageDeduplicationId (derived from channel and
          // dedupeId, or random): two equal payloads on one channel are two events.
          contentBasedDeduplication: false,
          // Deduplication ids include the channel, which is the message group, so
          // per-group scope loses nothing and lifts the topic-wide throughput limit.
          fifoThroughputScope: sns.FifoThroughputScope.MESSAGE_GROUP,
        }),
      });

    // The writer sends rejected messages to a FIFO dead-letter queue with a group and a
    // deduplication id of its own (functions/adapters/sqs/dead-letter-sink.ts).
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
      ...(this.fifo && { fifo: true }),
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(WRITER_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      ...(this.fifo && {
        fifo: true,
        // SNS passes each message's deduplication id on.
        contentBasedDeduplication: false,
        // High-throughput FIFO: limits per message group (channel), not per queue.
        deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
        fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      }),
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

    this.writer = bundledFunction(this, 'Writer', 'writer', {
      description: 'Appends SNS events from the queue to the SSE pub/sub event log',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture,
      memorySize: props.writerMemorySize ?? DEFAULT_WRITER_MEMORY_MB,
      timeout: WRITER_TIMEOUT,
      // Streams are held open on a public URL: without its own reservation the writer
      // competes with them for the account's concurrency and events stop being appended.
      reservedConcurrentExecutions: concurrency.writer,
      logGroup: writerLogGroup,
      ...logging,
      role: writerRole,
      environment: {
        [ENV.tableName]: this.table.tableName,
        [ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        [ENV.retentionSeconds]: String(retention.toSeconds()),
        [ENV.powertoolsServiceName]: WRITER_SERVICE_NAME,
        [ENV.powertoolsMetricsNamespace]: METRICS_NAMESPACE,
        [ENV.nodeOptions]: '--enable-source-maps',
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
      new SqsEventSource(this.queue, {
        batchSize,
        reportBatchItemFailures: true,
        // No more pollers than reserved executions: a batch handed to a throttled writer
        // returns to the queue and counts toward maxReceiveCount, then dead-letters.
        maxConcurrency: concurrency.writer,
      }),
    );

    const streamLogGroup = new logs.LogGroup(this, 'StreamLogGroup', {
      retention: logRetention,
      removalPolicy,
    });
    const streamRole = new iam.Role(this, 'StreamRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'SSE pub/sub stream: reads the event log',
    });
    streamLogGroup.grantWrite(streamRole);

    const auth = props.auth === undefined ? undefined : streamAuth(this, props.auth, removalPolicy);
    this.tokenSecret = auth?.secret;

    this.streamFunction = bundledFunction(this, 'Stream', 'stream', {
      description: 'Serves SSE pub/sub subscribers from the event log (streamed response)',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture,
      memorySize: props.streamMemorySize ?? DEFAULT_STREAM_MEMORY_MB,
      timeout: stream.timeout,
      // Caps concurrent streams (one execution each) so that they cannot take the
      // account's whole pool from the writer and every other function.
      reservedConcurrentExecutions: concurrency.maxStreams,
      logGroup: streamLogGroup,
      ...logging,
      role: streamRole,
      environment: {
        [ENV.tableName]: this.table.tableName,
        [ENV.retentionSeconds]: String(retention.toSeconds()),
        [ENV.streamLifetimeSeconds]: String(stream.lifetimeSeconds),
        [ENV.heartbeatSeconds]: String(stream.heartbeatSeconds),
        [ENV.pollMinMs]: String(stream.pollMinMs),
        [ENV.pollMaxMs]: String(stream.pollMaxMs),
        [ENV.paddingBytes]: String(stream.paddingBytes),
        // Unset means no cross-origin access (an empty list).
        ...(stream.corsOrigins === undefined ? {} : { [ENV.corsOrigins]: stream.corsOrigins }),
        ...auth?.environment,
        [ENV.powertoolsServiceName]: STREAM_SERVICE_NAME,
        [ENV.nodeOptions]: '--enable-source-maps',
      },
    });

    // Least privilege: subscribers only read. GetItem for a channel's head, Query for
    // its events; no writes, and no Scan.
    this.streamFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:Query'],
        resources: [this.table.tableArn],
      }),
    );

    // No URL-level CORS: the function answers preflights and sets the headers itself,
    // from CORS_ORIGINS, so that local runs and Lambda behave the same.
    this.functionUrl = this.streamFunction.addFunctionUrl({
      authType: props.streamAuthType ?? lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
    });

    // The token secret, and nothing else in Secrets Manager; read once per cold start.
    if (this.tokenSecret !== undefined) {
      this.streamFunction.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [secretPolicyArn(this.tokenSecret)],
        }),
      );
      // A secret encrypted with a customer managed key: decrypt through Secrets Manager only.
      this.tokenSecret.encryptionKey?.grantDecrypt(
        new kms.ViaServicePrincipal(
          `secretsmanager.${Stack.of(this).region}.amazonaws.com`,
          streamRole,
        ),
      );
    }

    const cloudFront = props.cloudFront === true ? {} : props.cloudFront || undefined;
    if (cloudFront !== undefined) {
      this.distribution = createStreamDistribution(
        this,
        'Distribution',
        this.functionUrl,
        cloudFront,
      );
      const host = cloudFront.domainNames?.[0] ?? this.distribution.distributionDomainName;
      this.streamUrl = `https://${host}/`;
    } else {
      this.streamUrl = this.functionUrl.url;
    }

    if (props.alarmTopic !== undefined) {
      this.alarmTopic = props.alarmTopic;
    } else if (alarmEmails.length > 0) {
      const topic = new sns.Topic(this, 'AlarmTopic', {
        displayName: 'SSE pub/sub alarms',
        enforceSSL: true,
      });
      for (const email of alarmEmails) {
        topic.addSubscription(new subscriptions.EmailSubscription(email));
      }
      this.alarmTopic = topic;
    } else {
      // Alarms without actions look like monitoring and page nobody: say so at every synth.
      Annotations.of(this).addWarningV2(
        'ssePubSub:alarmsNotifyNobody',
        'The SSE pub/sub alarms notify nobody: set alarmTopic or alarmEmails on the construct ' +
          '(or -c ssePubSub:alarmTopicArn=… / -c ssePubSub:alarmEmails=… on the stack).',
      );
    }

    const monitoring = new SsePubSubMonitoring(this, 'Monitoring', {
      table: this.table,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      writer: this.writer,
      streamFunction: this.streamFunction,
      maxStreams: concurrency.maxStreams,
      ...(this.alarmTopic !== undefined && { alarmTopic: this.alarmTopic }),
    });
    this.alarms = monitoring.alarms;
    this.dashboard = monitoring.dashboard;

    acknowledgeRuleFindings(this, props, cloudFront);
  }

  /** Lets `grantee` publish events to the topic. */
  public grantPublish(grantee: iam.IGrantable): iam.Grant {
    return this.topic.grantPublish(grantee);
  }

  /**
   * Lets `grantee` read the token secret (`secretsmanager:GetSecretValue`,
   * `DescribeSecret`), so that a backend service can sign subscriber tokens with it
   * (`signSubscriberToken` in the publisher SDK).
   *
   * @throws SsePubSubConfigError when there is no token secret: no `auth`, or `auth`
   * with `jwks` only.
   */
  public grantTokenSigning(grantee: iam.IGrantable): iam.Grant {
    if (this.tokenSecret === undefined) {
      throw new SsePubSubConfigError(
        'SsePubSub: grantTokenSigning needs a token secret: set auth (without jwks, or with auth.secret)',
      );
    }
    return this.tokenSecret.grantRead(grantee);
  }

  /**
   * Lets `grantee` call the stream function URL when it uses `AWS_IAM` auth (both
   * `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction` via the URL).
   */
  public grantStreamInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.functionUrl.grantInvokeUrl(grantee);
  }
}
