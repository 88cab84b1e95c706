import { Annotations, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
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
import { DEFAULT_POLL_MAX_MS, DEFAULT_POLL_MIN_MS } from '../functions/core/polling-feed.js';
import { HEARTBEAT_MS, STREAM_LIFETIME_MS } from '../functions/http/subscribe-config.js';
import { type SsePubSubAuthProps, secretPolicyArn, streamAuth } from './auth.js';
import { SsePubSubConfigError } from './errors.js';
import { bundledFunction } from './function-bundles.js';
import {
  METRICS_NAMESPACE,
  type SsePubSubAlarms,
  SsePubSubMonitoring,
  STREAM_SERVICE_NAME,
  WRITER_SERVICE_NAME,
} from './monitoring.js';
import {
  CLOUDFRONT_ORIGIN_READ_TIMEOUT,
  createStreamDistribution,
  type SsePubSubCloudFrontProps,
} from './stream-distribution.js';

export { type SsePubSubAuthProps, type SsePubSubJwksProps, TOKEN_SECRET_LENGTH } from './auth.js';
export { SsePubSubConfigError } from './errors.js';
export {
  ALARM_PERIOD,
  METRICS_NAMESPACE,
  QUEUE_AGE_THRESHOLD,
  type SsePubSubAlarms,
  WRITER_SERVICE_NAME,
} from './monitoring.js';
export {
  CLOUDFRONT_ORIGIN_READ_TIMEOUT,
  type SsePubSubCloudFrontProps,
} from './stream-distribution.js';

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

/** Streams wait on DynamoDB polls and the network, not the CPU: the smallest size does. */
export const DEFAULT_STREAM_MEMORY_MB = 128;
/** Streams end by themselves after this long (less jitter); clients reconnect. */
export const DEFAULT_STREAM_LIFETIME = Duration.millis(STREAM_LIFETIME_MS);
/** Comments sent on a quiet stream so that proxies do not close it. */
export const DEFAULT_HEARTBEAT_INTERVAL = Duration.millis(HEARTBEAT_MS);
/** How often a stream polls the event log: `min` while events flow, backing off to `max`. */
export const DEFAULT_POLL_INTERVAL: PollIntervalProps = {
  min: Duration.millis(DEFAULT_POLL_MIN_MS),
  max: Duration.millis(DEFAULT_POLL_MAX_MS),
};
/**
 * The stream function's timeout is its stream lifetime plus this. The function stops
 * `DEADLINE_MARGIN_MS` (10 s) before its deadline; the rest covers a cold start and the
 * final write, so a stream ends cleanly instead of being cut by the timeout.
 */
export const STREAM_TIMEOUT_HEADROOM = Duration.seconds(60);
/** Lambda's hard limit on one invocation, streaming or not. */
export const LAMBDA_MAX_TIMEOUT = Duration.minutes(15);

/** Bounds of the stream function's adaptive poll interval. */
export interface PollIntervalProps {
  /** Interval while events flow. Whole milliseconds, at least 1 ms. */
  readonly min: Duration;
  /** Interval a quiet channel backs off to. Whole milliseconds, at least `min`. */
  readonly max: Duration;
}

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
   * What happens to the event log table, the functions' log groups and the generated
   * token secret when they leave the stack. The queues hold only messages in flight
   * and are always destroyed.
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

  /**
   * Memory of the stream function, in MB. Streams are I/O bound; more memory buys CPU
   * that they do not use.
   *
   * @default 128
   */
  readonly streamMemorySize?: number;

  /**
   * How long one stream stays open before it ends itself (less up to 20 % jitter, so
   * that reconnects spread out); the client reconnects with `Last-Event-ID`. Lambda
   * never learns that a client went away, so a stream is billed until it ends: keep
   * this well below the 15-minute limit. The function's timeout is this plus 60 s.
   * Whole seconds, at most 14 minutes.
   *
   * @default Duration.minutes(5)
   */
  readonly streamLifetime?: Duration;

  /**
   * How long a stream may stay silent before it sends a heartbeat comment. Must be
   * below 30 s, CloudFront's origin read timeout between bytes. Whole seconds.
   *
   * @default Duration.seconds(15)
   */
  readonly heartbeatInterval?: Duration;

  /**
   * How often a stream polls the event log: every `min` while events flow, doubling
   * up to `max` while the channel is quiet. An idle stream costs one read per `max`.
   *
   * @default { min: Duration.millis(200), max: Duration.seconds(1) }
   */
  readonly pollInterval?: PollIntervalProps;

  /**
   * Browser origins allowed to subscribe (`https://app.example.com`), or `['*']` for
   * any. The function sets the CORS headers itself; the function URL has no CORS
   * configuration of its own.
   *
   * @default - no cross-origin access
   */
  readonly corsOrigins?: string[];

  /**
   * Bytes of padding comment written when a stream opens, for proxies or clients that
   * hold back small first writes. 0 (none) or at least 2.
   *
   * @default 0
   */
  readonly paddingBytes?: number;

  /**
   * Authentication of the stream function URL. `NONE` makes the URL public: the
   * function checks subscribers' tokens itself. `AWS_IAM` requires SigV4-signed
   * requests (for example from CloudFront with Origin Access Control); grant callers
   * with {@link SsePubSub.grantStreamInvoke}.
   *
   * @default lambda.FunctionUrlAuthType.NONE
   */
  readonly streamAuthType?: lambda.FunctionUrlAuthType;

  /**
   * A FIFO topic, queue and dead-letter queue instead of standard ones. Publishers set
   * `MessageGroupId` = channel (the publisher SDK does it when the topic ARN ends in
   * `.fifo`), so publish order is kept per channel, and `MessageDeduplicationId`
   * (content-based deduplication stays off: two equal payloads are two events).
   * Changing it on a deployed stack replaces the topic (a new ARN) and the queues.
   *
   * @default - the type of `topic` when given, else false (standard)
   */
  readonly fifo?: boolean;

  /**
   * An existing topic to subscribe the queue to, instead of creating one; then
   * {@link SsePubSub.topic} is this topic. The construct adds the subscription (and the
   * queue policy that lets the topic send), nothing on the topic itself: its access
   * policy stays its owner's. A FIFO topic needs `fifo: true` (implied when CDK can see
   * the topic's type: a topic from this app, or an ARN that is not a token).
   *
   * @default - a new topic, SSL-only
   */
  readonly topic?: sns.ITopic;

  /**
   * Access control: which channels are private, and how subscribers' tokens are
   * checked. Sets the stream function's `AUTH_*` variables and lets it read the token
   * secret (`secretsmanager:GetSecretValue` on that secret only).
   *
   * @default - every channel is public
   */
  readonly auth?: SsePubSubAuthProps;

  /**
   * A CloudFront distribution in front of the stream function URL; {@link SsePubSub.streamUrl}
   * becomes its URL. Responses still stream (heartbeats come every `heartbeatInterval`,
   * below CloudFront's 30 s read timeout) and nothing is cached. With
   * `streamAuthType: AWS_IAM`, CloudFront signs requests through Origin Access Control and
   * only the distribution can reach the function.
   *
   * @default false
   */
  readonly cloudFront?: boolean | SsePubSubCloudFrontProps;

  /**
   * Notified when an alarm fires and when it recovers.
   *
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Lowest level of the functions' application log lines that reaches CloudWatch (Lambda
   * advanced logging controls; logs are JSON). `WARN` and above are refused: the
   * writer's embedded metric lines carry no level, count as `INFO`, and would be dropped
   * with the alarms and the dashboard that read them.
   *
   * @default lambda.ApplicationLogLevel.INFO
   */
  readonly applicationLogLevel?: lambda.ApplicationLogLevel;
}

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
 * dead-letter queue, rejections, queue age, function errors and throttles and DynamoDB
 * throttling, and one dashboard. Deployment guide: docs/deploy.md.
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
  /** The alarms, by what they watch; they notify `alarmTopic` when given. */
  public readonly alarms: SsePubSubAlarms;
  /** One CloudWatch dashboard: events, queues, writer, streams, DynamoDB, alarms. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: SsePubSubProps = {}) {
    super(scope, id);

    const retention = props.retention ?? DEFAULT_RETENTION;
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const batchSize = props.writerBatchSize ?? DEFAULT_WRITER_BATCH_SIZE;
    const maxReceiveCount = props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT;

    if (retention.toSeconds() < 1) {
      throw new SsePubSubConfigError(
        `SsePubSub: retention must be at least 1 second, got ${retention.toHumanString()}`,
      );
    }
    const stream = streamSettings(props);
    const logging = loggingSettings(props);
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
      logGroup: writerLogGroup,
      ...logging,
      role: writerRole,
      environment: {
        TABLE_NAME: this.table.tableName,
        DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
        RETENTION_SECONDS: String(retention.toSeconds()),
        POWERTOOLS_SERVICE_NAME: WRITER_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
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
      logGroup: streamLogGroup,
      ...logging,
      role: streamRole,
      environment: {
        TABLE_NAME: this.table.tableName,
        RETENTION_SECONDS: String(retention.toSeconds()),
        STREAM_LIFETIME_SECONDS: String(stream.lifetimeSeconds),
        HEARTBEAT_SECONDS: String(stream.heartbeatSeconds),
        POLL_MIN_MS: String(stream.pollMinMs),
        POLL_MAX_MS: String(stream.pollMaxMs),
        PADDING_BYTES: String(stream.paddingBytes),
        // Unset means no cross-origin access (an empty list).
        ...(stream.corsOrigins === undefined ? {} : { CORS_ORIGINS: stream.corsOrigins }),
        ...auth?.environment,
        POWERTOOLS_SERVICE_NAME: STREAM_SERVICE_NAME,
        NODE_OPTIONS: '--enable-source-maps',
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

    const monitoring = new SsePubSubMonitoring(this, 'Monitoring', {
      table: this.table,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      writer: this.writer,
      streamFunction: this.streamFunction,
      ...(props.alarmTopic !== undefined && { alarmTopic: props.alarmTopic }),
    });
    this.alarms = monitoring.alarms;
    this.dashboard = monitoring.dashboard;

    this.acknowledgeRuleFindings(props, cloudFront);
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

  /**
   * Rule findings (cdk-nag `AwsSolutions`) that are deliberate in this design, each
   * acknowledged on the construct it concerns, with its reason. Acknowledgments are
   * construct metadata from aws-cdk-lib itself: apps without cdk-nag ignore them.
   */
  private acknowledgeRuleFindings(
    props: SsePubSubProps,
    cloudFront: SsePubSubCloudFrontProps | undefined,
  ): void {
    for (const fn of [this.writer, this.streamFunction]) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'The runtime is pinned to nodejs22.x by design: the bundle targets node22 and the ' +
          'handlers are tested on Node 22. nodejs22.x is a supported Lambda runtime; moving ' +
          'to a newer one is a deliberate upgrade of runtime, bundle target and tests together.',
      });
    }

    // Only a secret this construct generated: a given one is its owner's to rotate.
    if (this.tokenSecret !== undefined && props.auth?.secret === undefined) {
      Validations.of(this.tokenSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The token secret is the HS256 key that backend services sign subscriber tokens with ' +
          'and the stream function verifies them with. Scheduled rotation would invalidate every ' +
          'outstanding token at an arbitrary moment while running stream instances keep the old ' +
          'key until they are recycled, so it is rotated by hand instead (docs/deploy.md, ' +
          '"Rotating the token secret"); tokens are short-lived and clients fetch new ones.',
      });
    }

    const distribution = this.distribution;
    if (distribution === undefined || cloudFront === undefined) return;
    const acknowledge = (id: string, reason: string) =>
      Validations.of(distribution).acknowledge({ id, reason });
    acknowledge(
      'AwsSolutions-CFR1',
      'Subscribers are the users of the app, wherever they are: who may read a channel is decided ' +
        'per request by the private-channel prefixes and signed tokens, not by country. Geo ' +
        'restriction can be added on `distribution` where a deployment needs it.',
    );
    if (cloudFront.webAclId === undefined) {
      acknowledge(
        'AwsSolutions-CFR2',
        'No web ACL was given (cloudFront.webAclId). The stream function validates every ' +
          'parameter, header and token itself and answers bad input with a 4xx before reading ' +
          'the event log; a WAF web ACL (made in us-east-1, billed per ACL and per request) is ' +
          'opt-in through cloudFront.webAclId.',
      );
    }
    if (cloudFront.logBucket === undefined) {
      acknowledge(
        'AwsSolutions-CFR3',
        'No log bucket was given (cloudFront.logBucket). The stream function logs every request ' +
          '(path, channels, status) as JSON in CloudWatch Logs, without tokens; CloudFront ' +
          'standard logs would store `?token=` query strings in S3 and need an ACL-enabled ' +
          'bucket, so they are opt-in through cloudFront.logBucket.',
      );
    }
    if (cloudFront.certificate === undefined) {
      acknowledge(
        'AwsSolutions-CFR4',
        'No custom domain was given (cloudFront.domainNames and certificate): the default ' +
          '*.cloudfront.net certificate cannot enforce a minimum viewer TLS version, so the ' +
          'rule reads it as TLSv1. With a certificate the distribution requires TLSv1.2_2021.',
      );
    }
  }
}

/**
 * Whether the topic and queues are FIFO: the `fifo` prop, checked against the `topic`
 * prop's type where CDK knows it (a topic made in this app, or a literal ARN; an ARN
 * that is a token imports as standard whatever it is).
 */
function fifoSetting(scope: Construct, props: SsePubSubProps): boolean {
  const topic = props.topic;
  if (topic === undefined) return props.fifo ?? false;
  const typeKnown = topic instanceof sns.Topic || !Token.isUnresolved(topic.topicArn);
  if (!typeKnown) return props.fifo ?? false;
  if (props.fifo !== undefined && props.fifo !== topic.fifo) {
    throw new SsePubSubConfigError(
      `SsePubSub: fifo is ${props.fifo} but the topic is ${topic.fifo ? 'a FIFO' : 'a standard'} topic; ` +
        'the queues must match the topic (leave fifo unset to follow it)',
    );
  }
  if (topic.fifo && topic.contentBasedDeduplication) {
    Annotations.of(scope).addWarningV2(
      'ssePubSub:contentBasedDeduplication',
      'The FIFO topic deduplicates on content: publishers that send no MessageDeduplicationId ' +
        'lose equal payloads sent within 5 minutes. The publisher SDK always sends one.',
    );
  }
  return topic.fifo;
}

/** Lowest application log levels that keep the writer's metric lines (level-less, INFO). */
const LEVELS_KEEPING_METRICS: readonly lambda.ApplicationLogLevel[] = [
  lambda.ApplicationLogLevel.TRACE,
  lambda.ApplicationLogLevel.DEBUG,
  lambda.ApplicationLogLevel.INFO,
];

/** JSON logs with a level filter (Lambda advanced logging controls), for both functions. */
function loggingSettings(props: SsePubSubProps): {
  loggingFormat: lambda.LoggingFormat;
  applicationLogLevelV2: lambda.ApplicationLogLevel;
  systemLogLevelV2: lambda.SystemLogLevel;
} {
  const level = props.applicationLogLevel ?? lambda.ApplicationLogLevel.INFO;
  if (!LEVELS_KEEPING_METRICS.includes(level)) {
    throw new SsePubSubConfigError(
      `SsePubSub: applicationLogLevel must be TRACE, DEBUG or INFO, got ${level}: ` +
        'the writer’s embedded metric lines count as INFO and would be dropped',
    );
  }
  return {
    loggingFormat: lambda.LoggingFormat.JSON,
    applicationLogLevelV2: level,
    // START/END/REPORT lines: duration, billed duration and memory of every invocation.
    systemLogLevelV2: lambda.SystemLogLevel.INFO,
  };
}

interface StreamSettings {
  readonly timeout: Duration;
  readonly lifetimeSeconds: number;
  readonly heartbeatSeconds: number;
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
  readonly paddingBytes: number;
  readonly corsOrigins: string | undefined;
}

/** The stream function's settings from the props, validated; errors name the prop. */
function streamSettings(props: SsePubSubProps): StreamSettings {
  const lifetime = props.streamLifetime ?? DEFAULT_STREAM_LIFETIME;
  const heartbeat = props.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL;
  const poll = props.pollInterval ?? DEFAULT_POLL_INTERVAL;
  const paddingBytes = props.paddingBytes ?? 0;

  const lifetimeSeconds = wholeUnits(
    lifetime.toSeconds({ integral: false }),
    'streamLifetime',
    'seconds',
  );
  const maxLifetimeSeconds = LAMBDA_MAX_TIMEOUT.toSeconds() - STREAM_TIMEOUT_HEADROOM.toSeconds();
  if (lifetimeSeconds < 1 || lifetimeSeconds > maxLifetimeSeconds) {
    throw new SsePubSubConfigError(
      `SsePubSub: streamLifetime must be from 1 second to ${Duration.seconds(maxLifetimeSeconds).toHumanString()} ` +
        `(the function's timeout is the lifetime plus ${STREAM_TIMEOUT_HEADROOM.toHumanString()}, ` +
        `and Lambda allows at most ${LAMBDA_MAX_TIMEOUT.toHumanString()}), got ${lifetime.toHumanString()}`,
    );
  }

  const heartbeatSeconds = wholeUnits(
    heartbeat.toSeconds({ integral: false }),
    'heartbeatInterval',
    'seconds',
  );
  if (heartbeatSeconds < 1 || heartbeatSeconds >= CLOUDFRONT_ORIGIN_READ_TIMEOUT.toSeconds()) {
    throw new SsePubSubConfigError(
      `SsePubSub: heartbeatInterval must be at least 1 second and below ${CLOUDFRONT_ORIGIN_READ_TIMEOUT.toHumanString()} ` +
        `(CloudFront's origin read timeout between bytes), got ${heartbeat.toHumanString()}`,
    );
  }

  const pollMinMs = wholeUnits(
    poll.min.toMilliseconds({ integral: false }),
    'pollInterval.min',
    'milliseconds',
  );
  const pollMaxMs = wholeUnits(
    poll.max.toMilliseconds({ integral: false }),
    'pollInterval.max',
    'milliseconds',
  );
  if (pollMinMs < 1 || pollMaxMs < pollMinMs) {
    throw new SsePubSubConfigError(
      `SsePubSub: pollInterval needs 1 ms ≤ min ≤ max, got min ${poll.min.toHumanString()} and max ${poll.max.toHumanString()}`,
    );
  }

  if (!Number.isSafeInteger(paddingBytes) || paddingBytes < 0 || paddingBytes === 1) {
    // A comment is at least ":\n": one byte of padding cannot be written.
    throw new SsePubSubConfigError(
      `SsePubSub: paddingBytes must be 0 or an integer of at least 2, got ${paddingBytes}`,
    );
  }

  return {
    timeout: Duration.seconds(lifetimeSeconds + STREAM_TIMEOUT_HEADROOM.toSeconds()),
    lifetimeSeconds,
    heartbeatSeconds,
    pollMinMs,
    pollMaxMs,
    paddingBytes,
    corsOrigins: corsOriginsVariable(props.corsOrigins),
  };
}

function wholeUnits(value: number, prop: string, unit: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new SsePubSubConfigError(
      `SsePubSub: ${prop} must be whole ${unit}, got ${value} ${unit}`,
    );
  }
  return value;
}

/**
 * CORS_ORIGINS is comma-separated, and `*` means any origin only when it stands alone;
 * an origin is a scheme and host (and port), without path or trailing slash.
 */
function corsOriginsVariable(origins: readonly string[] | undefined): string | undefined {
  if (origins === undefined || origins.length === 0) return undefined;
  if (origins.includes('*')) {
    if (origins.length > 1) {
      throw new SsePubSubConfigError(
        `SsePubSub: corsOrigins may be ['*'] or a list of origins, not both, got ${JSON.stringify(origins)}`,
      );
    }
    return '*';
  }
  for (const origin of origins) {
    if (!/^[a-z][a-z0-9+.-]*:\/\/[^\s,/]+$/i.test(origin)) {
      throw new SsePubSubConfigError(
        `SsePubSub: corsOrigins entries must be origins like "https://app.example.com" (no path, comma or space), got ${JSON.stringify(origin)}`,
      );
    }
  }
  return origins.join(',');
}
