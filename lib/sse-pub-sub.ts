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
import { bundledFunction, WEB_SERVER_ENTRY_POINT, webServerCode } from './function-bundles.js';
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
import {
  createStreamDistribution,
  type StreamOrigin,
  streamOriginUrl,
} from './stream-distribution.js';
import {
  alarmEmailsSetting,
  concurrencySettings,
  deliveryLagThresholdMs,
  fifoSetting,
  loggingSettings,
  retentionSetting,
  type StreamSettings,
  streamSettings,
  subscribeHostSettings,
} from './validation.js';

/**
 * AWS recommends a source queue visibility timeout of at least six times the function
 * timeout, so that throttled retries of a batch do not make its messages visible again.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
const VISIBILITY_TIMEOUT_FACTOR = 6;

/**
 * Partitions of the change index. One takes 1,000 write units a second, one per append
 * (an append carries up to 49 events of a channel), far above what one writer with
 * `writerReservedConcurrency` invocations sustains; readers pay one Query per shard.
 */
const CHANGE_INDEX_SHARDS = 1;

/**
 * The variables of the subscribe routes, whichever host runs them (the stream function
 * or the Web Function server, which adds its `REQUEST_TIMEOUT_SECONDS`).
 */
function subscribeEnvironmentVariables(settings: {
  readonly tableName: string;
  readonly retention: Duration;
  readonly stream: StreamSettings;
  readonly authEnvironment: Record<string, string> | undefined;
}): Record<string, string> {
  const { stream } = settings;
  return {
    [ENV.tableName]: settings.tableName,
    [ENV.retentionSeconds]: String(settings.retention.toSeconds()),
    [ENV.streamLifetimeSeconds]: String(stream.lifetimeSeconds),
    [ENV.heartbeatSeconds]: String(stream.heartbeatSeconds),
    [ENV.pollMinMs]: String(stream.pollMinMs),
    [ENV.pollMaxMs]: String(stream.pollMaxMs),
    [ENV.paddingBytes]: String(stream.paddingBytes),
    // Unset means no cross-origin access (an empty list).
    ...(stream.corsOrigins === undefined ? {} : { [ENV.corsOrigins]: stream.corsOrigins }),
    ...(stream.metricsChannelPrefixes === undefined
      ? {}
      : { [ENV.metricsChannelPrefixes]: stream.metricsChannelPrefixes }),
    ...settings.authEnvironment,
    [ENV.powertoolsServiceName]: STREAM_SERVICE_NAME,
    // The routes' own embedded metrics (streams, delivery lag, resets, refusals).
    [ENV.powertoolsMetricsNamespace]: METRICS_NAMESPACE,
    [ENV.nodeOptions]: '--enable-source-maps',
  };
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
  /**
   * Serves subscribers from the event log, streaming its response; reads only. With
   * `subscribeHost: 'functionUrl'` (the default) only.
   */
  public readonly streamFunction?: lambda.Function;
  /** The stream function's URL, in `RESPONSE_STREAM` mode; with the stream function only. */
  public readonly functionUrl?: lambda.FunctionUrl;
  /**
   * Serves subscribers from the event log as a Node HTTP server, many streams per
   * environment; reads only. With `subscribeHost: 'webFunction'` only. Its endpoint is
   * `webFunction.endpoint`.
   */
  public readonly webFunction?: lambda.WebFunction;
  /**
   * The role of the custom resource that copies the Web Function's code into the stack's
   * code bucket, with `subscribeHost: 'webFunction'`.
   */
  public readonly webFunctionCodeCopyRole?: iam.Role;
  /**
   * Where subscribers connect, ending in `/`: the distribution's URL with `cloudFront`
   * (`https://d….cloudfront.net/`, or the first of `domainNames`), else the function
   * URL (`https://….lambda-url.<region>.on.aws/`) or the Web Function endpoint
   * (`https://….lambda-web.<region>.on.aws/`).
   */
  public readonly streamUrl: string;
  /** The CloudFront distribution in front of the subscribe origin, with `cloudFront`. */
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
    const subscribeHost = subscribeHostSettings(props, stream);
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
        // The Web Function host learns of news from the change index (one PutItem per
        // append); the function URL host polls each stream's channels and needs none.
        ...(subscribeHost.host === 'webFunction' && {
          [ENV.changeIndexShards]: String(CHANGE_INDEX_SHARDS),
        }),
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

    const auth = props.auth === undefined ? undefined : streamAuth(this, props.auth, removalPolicy);
    this.tokenSecret = auth?.secret;

    // One environment for both hosts: the same routes read the same variables.
    const subscribeEnvironment = subscribeEnvironmentVariables({
      tableName: this.table.tableName,
      retention,
      stream,
      authEnvironment: auth?.environment,
    });
    const cloudFront = props.cloudFront === true ? {} : props.cloudFront || undefined;

    let subscribeRole: iam.Role;
    if (subscribeHost.host === 'functionUrl') {
      const streamLogGroup = new logs.LogGroup(this, 'StreamLogGroup', {
        retention: logRetention,
        removalPolicy,
      });
      subscribeRole = new iam.Role(this, 'StreamRole', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: 'SSE pub/sub stream: reads the event log',
      });
      streamLogGroup.grantWrite(subscribeRole);

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
        role: subscribeRole,
        environment: subscribeEnvironment,
      });

      // No URL-level CORS: the function answers preflights and sets the headers itself,
      // from CORS_ORIGINS, so that local runs and Lambda behave the same.
      this.functionUrl = this.streamFunction.addFunctionUrl({
        authType: props.streamAuthType ?? lambda.FunctionUrlAuthType.NONE,
        invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
      });
    } else {
      const settings = subscribeHost.webFunction;
      const webLogGroup = new logs.LogGroup(this, 'WebServerLogGroup', {
        retention: logRetention,
        removalPolicy,
      });
      // The principal the WebFunction construct's own default role trusts.
      subscribeRole = new iam.Role(this, 'WebServerRole', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: 'SSE pub/sub web server: reads the event log',
      });
      webLogGroup.grantWrite(subscribeRole);

      // The custom resource that copies the code into the stack's code bucket gets a role
      // and a log group of its own too, instead of AWSLambdaBasicExecutionRole and a log
      // group kept forever.
      const copyLogGroup = new logs.LogGroup(this, 'WebServerCodeCopyLogGroup', {
        retention: logRetention,
        removalPolicy,
      });
      const copyRole = new iam.Role(this, 'WebServerCodeCopyRole', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: 'SSE pub/sub: copies the web server code into the Web Function code bucket',
      });
      copyLogGroup.grantWrite(copyRole);
      this.webFunctionCodeCopyRole = copyRole;

      this.webFunction = new lambda.WebFunction(this, 'WebServer', {
        revisionDescription:
          'Serves SSE pub/sub subscribers from the event log (Node HTTP server, many streams per environment)',
        code: webServerCode({ role: copyRole, logGroup: copyLogGroup }),
        runtime: lambda.WebFunctionRuntime.NODEJS_24_X,
        entryPoint: WEB_SERVER_ENTRY_POINT,
        role: subscribeRole,
        logGroup: webLogGroup,
        applicationLogLevel: logging.applicationLogLevelV2,
        systemLogLevel: logging.systemLogLevelV2,
        // Explicit: the service default (30 s) would cut every stream.
        timeout: settings.timeout,
        maxConcurrencyPerEnvironment: settings.maxConcurrencyPerEnvironment,
        defaultEndpointAuth: settings.endpointAuth,
        ...(settings.maxEnvironments !== undefined && {
          defaultEndpoint: { maxEnvironments: settings.maxEnvironments },
        }),
        environment: {
          ...subscribeEnvironment,
          // Each request's deadline: a stream ends DEADLINE_MARGIN before it.
          [ENV.requestTimeoutSeconds]: String(settings.timeout.toSeconds()),
          // Read the change index the writer keeps; sweep the channels' heads as a safety net.
          [ENV.changeIndexShards]: String(CHANGE_INDEX_SHARDS),
        },
      });
      // The revision starts serving with its role's permissions in place.
      this.webFunction.resourceRevision.node.addDependency(subscribeRole);
    }

    // Least privilege: subscribers only read. GetItem for a channel's head, Query for
    // its events (and the change index); the Web Function's safety sweep reads its
    // channels' heads with BatchGetItem. No writes, and no Scan.
    subscribeRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:Query',
          ...(subscribeHost.host === 'webFunction' ? ['dynamodb:BatchGetItem'] : []),
        ],
        resources: [this.table.tableArn],
      }),
    );

    // The token secret, and nothing else in Secrets Manager; read once per start.
    if (this.tokenSecret !== undefined) {
      subscribeRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [secretPolicyArn(this.tokenSecret)],
        }),
      );
      // A secret encrypted with a customer managed key: decrypt through Secrets Manager only.
      this.tokenSecret.encryptionKey?.grantDecrypt(
        new kms.ViaServicePrincipal(
          `secretsmanager.${Stack.of(this).region}.amazonaws.com`,
          subscribeRole,
        ),
      );
    }

    const origin: StreamOrigin =
      this.webFunction !== undefined
        ? { webFunction: this.webFunction }
        : { functionUrl: this.requireFunctionUrl() };
    if (cloudFront !== undefined) {
      this.distribution = createStreamDistribution(this, 'Distribution', origin, cloudFront);
      const host = cloudFront.domainNames?.[0] ?? this.distribution.distributionDomainName;
      this.streamUrl = `https://${host}/`;
    } else {
      this.streamUrl = streamOriginUrl(origin);
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
      deliveryLagThresholdMs: deliveryLagThresholdMs(props),
      ...(this.streamFunction !== undefined && {
        streamFunction: this.streamFunction,
        maxStreams: concurrency.maxStreams,
      }),
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
   * Lets `grantee` call the subscribe routes' origin when it requires IAM: the stream
   * function URL with `AWS_IAM` auth (`lambda:InvokeFunctionUrl` and `lambda:InvokeFunction`
   * via the URL), or the Web Function endpoint with `IAM_AUTH`
   * (`lambda:InvokeWebFunctionEndpoint`).
   */
  public grantStreamInvoke(grantee: iam.IGrantable): iam.Grant {
    if (this.webFunction !== undefined) return this.webFunction.endpoint.grants.invoke(grantee);
    return this.requireFunctionUrl().grantInvokeUrl(grantee);
  }

  /** The function URL, which every construct without a Web Function has. */
  private requireFunctionUrl(): lambda.FunctionUrl {
    if (this.functionUrl === undefined) {
      throw new SsePubSubConfigError('SsePubSub: no function URL was made (internal error)');
    }
    return this.functionUrl;
  }
}
