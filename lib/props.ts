/**
 * What a user configures on `SsePubSub`: its props, their defaults, and the fixed limits
 * the construct is built around.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { DEPLOYMENT_DEFAULTS } from '../functions/config/environment.js';
import type { SsePubSubAuthProps } from './auth.js';
import type { SsePubSubCloudFrontProps } from './stream-distribution.js';

/** Events stay readable for 24 hours unless configured otherwise. */
export const DEFAULT_RETENTION = Duration.seconds(DEPLOYMENT_DEFAULTS.retentionSeconds);
export const DEFAULT_WRITER_MEMORY_MB = DEPLOYMENT_DEFAULTS.writerMemoryMb;
/** Long enough for a batch of transactional appends, short enough to redeliver quickly. */
export const WRITER_TIMEOUT = Duration.seconds(30);
export const DEFAULT_WRITER_BATCH_SIZE = DEPLOYMENT_DEFAULTS.writerBatchSize;
export const DEFAULT_MAX_RECEIVE_COUNT = DEPLOYMENT_DEFAULTS.maxReceiveCount;
/** The longest SQS keeps a message: time for a human to inspect and redrive. */
export const DEAD_LETTER_RETENTION = Duration.days(14);

/**
 * Concurrency reserved for the writer, and the most writer invocations the queue's event
 * source starts at once (its `maxConcurrency`, set to the same number so that the poller
 * never hands a batch to a throttled function: a throttled batch goes back to the queue
 * and counts toward `maxReceiveCount`). 5 is a choice, not a measured need: it takes little
 * from the account's unreserved pool, and the `queueAge` alarm says when it is too few.
 */
export const DEFAULT_WRITER_RESERVED_CONCURRENCY = DEPLOYMENT_DEFAULTS.writerReservedConcurrency;
/**
 * An SQS event source's `maxConcurrency` must be from 2 to 1,000 (Lambda's
 * `ScalingConfig.MaximumConcurrency`); the writer's reservation is that number too.
 */
export const WRITER_CONCURRENCY_RANGE = { min: 2, max: 1_000 } as const;
/**
 * The stream function's reserved concurrency: every open SSE connection (and every
 * `/poll` request in flight) is one concurrent execution, so this is the most subscribers
 * connected at once. 100 is a choice: modest enough to take little from the account's
 * unreserved pool and to bound what idle streams cost, enough for a first deployment.
 * Size it to the expected number of concurrent subscribers.
 */
export const DEFAULT_MAX_STREAMS = DEPLOYMENT_DEFAULTS.maxStreams;

/** Streams wait on DynamoDB polls and the network, not the CPU: the smallest size does. */
export const DEFAULT_STREAM_MEMORY_MB = DEPLOYMENT_DEFAULTS.streamMemoryMb;
/** Streams end by themselves after this long (less jitter); clients reconnect. */
export const DEFAULT_STREAM_LIFETIME = Duration.seconds(DEPLOYMENT_DEFAULTS.streamLifetimeSeconds);
/** Comments sent on a quiet stream so that proxies do not close it. */
export const DEFAULT_HEARTBEAT_INTERVAL = Duration.seconds(DEPLOYMENT_DEFAULTS.heartbeatSeconds);
/**
 * The `deliveryLag` alarm fires when the p99 of `DeliveryLag` (an event's append to its
 * write on a stream) passes this over 5 minutes. A choice, not an AWS figure: both hosts
 * measure well below a second (docs/benchmarks.md), so 5 s means a stalled feed or an
 * overloaded server, not a slow moment.
 */
export const DEFAULT_DELIVERY_LAG_ALARM_THRESHOLD = Duration.seconds(5);
/** How often a stream polls the event log: `min` while events flow, backing off to `max`. */
export const DEFAULT_POLL_INTERVAL: PollIntervalProps = {
  min: Duration.millis(DEPLOYMENT_DEFAULTS.pollMinMs),
  max: Duration.millis(DEPLOYMENT_DEFAULTS.pollMaxMs),
};
/**
 * The stream function's timeout is its stream lifetime plus this. The function stops
 * `DEADLINE_MARGIN_MS` (10 s) before its deadline; the rest covers a cold start and the
 * final write, so a stream ends cleanly instead of being cut by the timeout.
 */
export const STREAM_TIMEOUT_HEADROOM = Duration.seconds(60);
/** Lambda's hard limit on one invocation, streaming or not. */
export const LAMBDA_MAX_TIMEOUT = Duration.minutes(15);
/**
 * How long before its deadline a stream ends itself: `DEADLINE_MARGIN_MS` of the
 * subscribe routes (functions/http/subscribe-config.ts), here as a Duration so that the
 * construct does not load the routes. A Web Function's timeout must exceed the stream
 * lifetime by more than this, or streams would be cut instead of ending cleanly.
 */
export const DEADLINE_MARGIN = Duration.seconds(10);

/** Where the subscribe routes run: see {@link SsePubSubProps.subscribeHost}. */
export type SsePubSubSubscribeHost = 'functionUrl' | 'webFunction';
export const SUBSCRIBE_HOSTS: readonly SsePubSubSubscribeHost[] = ['functionUrl', 'webFunction'];

/**
 * Concurrent requests one Web Function environment takes: the service's most, 128.
 * Streams wait on the event log and the network, so one environment holds many; they
 * share one poller per channel there.
 */
export const DEFAULT_WEB_FUNCTION_MAX_CONCURRENCY = 128;
/** `maxConcurrencyPerEnvironment` of a Web Function: an integer from 1 to 128. */
export const WEB_FUNCTION_CONCURRENCY_RANGE = { min: 1, max: 128 } as const;
/** A Web Function revision's timeout: whole seconds from 3 to 900. */
export const WEB_FUNCTION_TIMEOUT_RANGE = {
  min: Duration.seconds(3),
  max: Duration.seconds(900),
} as const;
/** The smallest `maxEnvironments` a Web Function endpoint accepts. */
export const WEB_FUNCTION_MIN_ENVIRONMENTS = 2;

/** The Lambda Web Function host of the subscribe routes (`subscribeHost: 'webFunction'`). */
export interface SsePubSubWebFunctionProps {
  /**
   * Most requests (open streams and waiting polls) one execution environment serves at
   * once; Lambda adds environments beyond that. An integer from 1 to 128. Streams wait on
   * I/O, not the CPU, so one environment holds many, and the streams of one environment
   * share one poller per channel.
   *
   * @default 128
   */
  readonly maxConcurrencyPerEnvironment?: number;

  /**
   * Most execution environments the endpoint runs at once: with
   * `maxConcurrencyPerEnvironment`, a cap on concurrent subscribers (and on cost).
   * An integer of at least 2.
   *
   * @default - no cap but the account's quota
   */
  readonly maxEnvironments?: number;

  /**
   * The revision's request timeout: it bounds each request, a whole stream included, and
   * the server hands it to every stream as its deadline (`REQUEST_TIMEOUT_SECONDS`). Whole
   * seconds from 3 to 900, and more than `streamLifetime` plus 10 s (the margin a stream
   * keeps before its deadline).
   *
   * @default - streamLifetime plus 60 s, as the stream function's timeout
   */
  readonly timeout?: Duration;

  /**
   * Authentication of the endpoint. `APPLICATION_MANAGED` makes it public: the server
   * checks subscribers' tokens itself, as on a public function URL. `IAM_AUTH` requires
   * SigV4-signed requests: with `cloudFront`, CloudFront signs them through Origin Access
   * Control and only the distribution can reach the endpoint; grant other callers with
   * {@link SsePubSub.grantStreamInvoke}.
   *
   * @default lambda.WebFunctionAuthType.APPLICATION_MANAGED
   */
  readonly endpointAuth?: lambda.WebFunctionAuthType;
}

/** Bounds of the stream function's adaptive poll interval. */
export interface PollIntervalProps {
  /** Interval while events flow. Whole milliseconds, at least 1 ms. */
  readonly min: Duration;
  /** Interval a quiet channel backs off to. Whole milliseconds, at least `min`. */
  readonly max: Duration;
}

export interface SsePubSubProps {
  /**
   * What serves the subscribe routes (`GET /events`, `GET /poll`), with the same contract
   * either way:
   *
   * - `functionUrl`: the stream function behind a function URL in `RESPONSE_STREAM` mode,
   *   one invocation (and one poller) per open stream, capped by `maxStreams`;
   * - `webFunction`: a Lambda Web Function, a Node HTTP server of which each environment
   *   holds up to `webFunction.maxConcurrencyPerEnvironment` streams sharing one poller
   *   per channel. Its endpoint speaks HTTP/1.1 only, where browsers open at most 6
   *   EventSource connections per origin: put `cloudFront` in front for HTTP/2. Not with
   *   `maxStreams`, `streamMemorySize` or `streamAuthType`, which belong to the function.
   *
   * @default 'functionUrl'
   */
  readonly subscribeHost?: SsePubSubSubscribeHost;

  /**
   * Settings of the Web Function host. Only with `subscribeHost: 'webFunction'`.
   *
   * @default - the defaults of {@link SsePubSubWebFunctionProps}
   */
  readonly webFunction?: SsePubSubWebFunctionProps;

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
   * that they do not use. Function URL host only.
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
   * with {@link SsePubSub.grantStreamInvoke}. Function URL host only (the Web Function
   * host has `webFunction.endpointAuth`).
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
   * A CloudFront distribution in front of the stream function URL (or the Web Function
   * endpoint); {@link SsePubSub.streamUrl} becomes its URL. Responses still stream (heartbeats come every `heartbeatInterval`,
   * below CloudFront's 30 s read timeout) and nothing is cached. With
   * `streamAuthType: AWS_IAM` (or `webFunction.endpointAuth: IAM_AUTH`), CloudFront signs
   * requests through Origin Access Control and only the distribution can reach the origin.
   *
   * @default false
   */
  readonly cloudFront?: boolean | SsePubSubCloudFrontProps;

  /**
   * Concurrency reserved for the writer function (`reservedConcurrentExecutions`), and
   * the queue event source's `maxConcurrency`, the same number: the writer can always
   * run this many invocations, whatever the streams take, and never more. The reservation
   * comes out of the account's unreserved concurrency. Raise it when the queue's oldest
   * message keeps ageing (the `queueAge` alarm) while the writer is healthy. An integer
   * from 2 to 1,000 (the range of an SQS event source's `maxConcurrency`).
   *
   * @default 5
   */
  readonly writerReservedConcurrency?: number;

  /**
   * The most concurrent streams: the stream function's reserved concurrency
   * (`reservedConcurrentExecutions`). Each open SSE connection is one concurrent
   * execution for as long as it stays open (up to `streamLifetime`), and each `/poll`
   * request one while it waits; subscribers beyond this are throttled (the
   * `streamThrottles` alarm) and their clients retry, while the writer keeps its own
   * reservation. Reserving takes this many from the account's unreserved pool, which
   * every function without a reservation shares. The `streamConcurrency` alarm fires at
   * 80 % of it. A positive integer. Function URL host only.
   *
   * @default 100
   */
  readonly maxStreams?: number;

  /**
   * Notified when an alarm fires and when it recovers. Without it (and without
   * `alarmEmails`) the alarms notify nobody, and synthesis warns about it.
   *
   * @default - the topic made for `alarmEmails`, else alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Email addresses told when an alarm fires or recovers, through a topic the construct
   * creates ({@link SsePubSub.alarmTopic}); each address confirms its subscription
   * first. Not together with `alarmTopic`: subscribe addresses to your own topic there.
   *
   * @default - no email notifications
   */
  readonly alarmEmails?: string[];

  /**
   * The p99 delivery lag (append → write on a stream, over 5 minutes, from the
   * subscribe routes' `DeliveryLag` metric) above which the `deliveryLag` alarm fires.
   * At least 1 ms, whole milliseconds.
   *
   * @default Duration.seconds(5)
   */
  readonly deliveryLagAlarmThreshold?: Duration;

  /**
   * Channel prefixes whose channels the subscribe routes also count one by one (their
   * stream metrics get a `Channel` dimension). Each channel is then a metric of its own
   * in CloudWatch, so choose prefixes with few channels; one server reports at most 50
   * distinct channels and counts the rest as `<prefix>*`. At most 10 prefixes, none
   * empty or with a comma.
   *
   * @default - no per-channel metrics
   */
  readonly metricsChannelPrefixes?: string[];

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
