/**
 * Checks `SsePubSub`'s props and resolves them into the settings the wiring uses;
 * a prop value that cannot work throws `SsePubSubConfigError`, naming the prop.
 */
import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DEPLOYMENT_DEFAULTS } from '../functions/config/environment.js';
import { MAX_METRICS_CHANNEL_PREFIXES } from '../functions/config/stream-metrics-config.js';
import { SsePubSubConfigError } from './errors.js';
import {
  DEADLINE_MARGIN,
  DEFAULT_DELIVERY_LAG_ALARM_THRESHOLD,
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_MAX_STREAMS,
  DEFAULT_POLL_INTERVAL,
  DEFAULT_RETENTION,
  DEFAULT_STREAM_LIFETIME,
  DEFAULT_WEB_FUNCTION_MAX_CONCURRENCY,
  DEFAULT_WRITER_RESERVED_CONCURRENCY,
  LAMBDA_MAX_TIMEOUT,
  type SsePubSubProps,
  STREAM_TIMEOUT_HEADROOM,
  SUBSCRIBE_HOSTS,
  WEB_FUNCTION_CONCURRENCY_RANGE,
  WEB_FUNCTION_MIN_ENVIRONMENTS,
  WEB_FUNCTION_TIMEOUT_RANGE,
  WRITER_CONCURRENCY_RANGE,
} from './props.js';
import { CLOUDFRONT_ORIGIN_READ_TIMEOUT } from './stream-distribution.js';

/** How long events stay readable: the `retention` prop, at least 1 second. */
export function retentionSetting(props: SsePubSubProps): Duration {
  const retention = props.retention ?? DEFAULT_RETENTION;
  if (retention.toSeconds() < 1) {
    throw new SsePubSubConfigError(
      `SsePubSub: retention must be at least 1 second, got ${retention.toHumanString()}`,
    );
  }
  return retention;
}

/**
 * Whether the topic and queues are FIFO: the `fifo` prop, checked against the `topic`
 * prop's type where CDK knows it (a topic made in this app, or a literal ARN; an ARN
 * that is a token imports as standard whatever it is).
 */
export function fifoSetting(scope: Construct, props: SsePubSubProps): boolean {
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

export interface ConcurrencySettings {
  /** The writer's reserved concurrency, and its event source's `maxConcurrency`. */
  readonly writer: number;
  /** The stream function's reserved concurrency: the most concurrent streams. */
  readonly maxStreams: number;
  /** What the construct takes from the account's unreserved concurrency. */
  readonly totalReserved: number;
}

/**
 * The reservations of both functions. Tokens are refused along with fractions: the
 * alarm threshold and the total are computed at synth.
 */
export function concurrencySettings(props: SsePubSubProps): ConcurrencySettings {
  const writer = props.writerReservedConcurrency ?? DEFAULT_WRITER_RESERVED_CONCURRENCY;
  const maxStreams = props.maxStreams ?? DEFAULT_MAX_STREAMS;
  const { min, max } = WRITER_CONCURRENCY_RANGE;
  if (!Number.isSafeInteger(writer) || writer < min || writer > max) {
    throw new SsePubSubConfigError(
      `SsePubSub: writerReservedConcurrency must be an integer from ${min} to ${max} ` +
        `(it is also the SQS event source's maxConcurrency), got ${writer}`,
    );
  }
  if (!Number.isSafeInteger(maxStreams) || maxStreams < 1) {
    throw new SsePubSubConfigError(
      `SsePubSub: maxStreams must be a positive integer (each open stream is one concurrent execution), got ${maxStreams}`,
    );
  }
  const totalReserved = writer + maxStreams;
  if (!Number.isSafeInteger(totalReserved)) {
    throw new SsePubSubConfigError(
      `SsePubSub: writerReservedConcurrency + maxStreams must be a whole number, got ${totalReserved}`,
    );
  }
  return { writer, maxStreams, totalReserved };
}

/** An address the alarm topic can mail: something@somewhere, no spaces or commas. */
const EMAIL_PATTERN = /^[^\s@,]+@[^\s@,]+$/;

/** The alarm email addresses, checked; `alarmTopic` and `alarmEmails` exclude each other. */
export function alarmEmailsSetting(props: SsePubSubProps): readonly string[] {
  const emails = props.alarmEmails ?? [];
  if (emails.length > 0 && props.alarmTopic !== undefined) {
    throw new SsePubSubConfigError(
      'SsePubSub: set alarmTopic or alarmEmails, not both: subscribe the addresses to your own topic',
    );
  }
  for (const email of emails) {
    if (!EMAIL_PATTERN.test(email)) {
      throw new SsePubSubConfigError(
        `SsePubSub: alarmEmails entries must be email addresses, got ${JSON.stringify(email)}`,
      );
    }
  }
  return emails;
}

/** Lowest application log levels that keep the writer's metric lines (level-less, INFO). */
const LEVELS_KEEPING_METRICS: readonly lambda.ApplicationLogLevel[] = [
  lambda.ApplicationLogLevel.TRACE,
  lambda.ApplicationLogLevel.DEBUG,
  lambda.ApplicationLogLevel.INFO,
];

/** JSON logs with a level filter (Lambda advanced logging controls), for both functions. */
export function loggingSettings(props: SsePubSubProps): {
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

export interface StreamSettings {
  readonly timeout: Duration;
  readonly lifetimeSeconds: number;
  readonly heartbeatSeconds: number;
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
  readonly paddingBytes: number;
  readonly corsOrigins: string | undefined;
  readonly metricsChannelPrefixes: string | undefined;
}

/** The stream function's settings from the props, validated; errors name the prop. */
export function streamSettings(props: SsePubSubProps): StreamSettings {
  const lifetime = props.streamLifetime ?? DEFAULT_STREAM_LIFETIME;
  const heartbeat = props.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL;
  const poll = props.pollInterval ?? DEFAULT_POLL_INTERVAL;
  const paddingBytes = props.paddingBytes ?? DEPLOYMENT_DEFAULTS.paddingBytes;

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
    metricsChannelPrefixes: metricsChannelPrefixesVariable(props.metricsChannelPrefixes),
  };
}

/** METRICS_CHANNEL_PREFIXES is comma-separated; the reader allows 10. */
function metricsChannelPrefixesVariable(
  prefixes: readonly string[] | undefined,
): string | undefined {
  if (prefixes === undefined || prefixes.length === 0) return undefined;
  if (prefixes.length > MAX_METRICS_CHANNEL_PREFIXES) {
    throw new SsePubSubConfigError(
      `SsePubSub: metricsChannelPrefixes may name at most ${MAX_METRICS_CHANNEL_PREFIXES} prefixes, got ${prefixes.length}`,
    );
  }
  for (const prefix of prefixes) {
    if (prefix.trim() === '' || prefix.includes(',')) {
      throw new SsePubSubConfigError(
        `SsePubSub: metricsChannelPrefixes entries must be non-empty and without a comma, got ${JSON.stringify(prefix)}`,
      );
    }
  }
  return prefixes.join(',');
}

/** The `deliveryLag` alarm's threshold in milliseconds, validated. */
export function deliveryLagThresholdMs(props: SsePubSubProps): number {
  const threshold = props.deliveryLagAlarmThreshold ?? DEFAULT_DELIVERY_LAG_ALARM_THRESHOLD;
  const ms = wholeUnits(
    threshold.toMilliseconds({ integral: false }),
    'deliveryLagAlarmThreshold',
    'milliseconds',
  );
  if (ms < 1) {
    throw new SsePubSubConfigError(
      `SsePubSub: deliveryLagAlarmThreshold must be at least 1 millisecond, got ${threshold.toHumanString()}`,
    );
  }
  return ms;
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

/** The Web Function host's settings, resolved from `webFunction` and its defaults. */
export interface WebFunctionSettings {
  readonly timeout: Duration;
  readonly maxConcurrencyPerEnvironment: number;
  readonly maxEnvironments: number | undefined;
  readonly endpointAuth: lambda.WebFunctionAuthType;
}

/** Where the subscribe routes run, with the Web Function's settings when it is that host. */
export type SubscribeHostSettings =
  | { readonly host: 'functionUrl' }
  | { readonly host: 'webFunction'; readonly webFunction: WebFunctionSettings };

/** Props that configure the stream function, and so mean nothing to the Web Function host. */
const FUNCTION_HOST_PROPS = ['maxStreams', 'streamMemorySize', 'streamAuthType'] as const;

const WEB_FUNCTION_AUTH_TYPES: readonly string[] = Object.values(lambda.WebFunctionAuthType);

/**
 * The `subscribeHost` prop and, for `webFunction`, its settings, checked against the
 * stream settings: a Web Function's timeout must leave a stream its deadline margin.
 */
export function subscribeHostSettings(
  props: SsePubSubProps,
  stream: StreamSettings,
): SubscribeHostSettings {
  const host = props.subscribeHost ?? 'functionUrl';
  if (!SUBSCRIBE_HOSTS.includes(host)) {
    throw new SsePubSubConfigError(
      `SsePubSub: subscribeHost must be ${SUBSCRIBE_HOSTS.map((name) => `'${name}'`).join(' or ')}, got ${JSON.stringify(host)}`,
    );
  }
  if (host === 'functionUrl') {
    if (props.webFunction !== undefined) {
      throw new SsePubSubConfigError(
        "SsePubSub: webFunction is set but subscribeHost is 'functionUrl': set subscribeHost: 'webFunction' to use it",
      );
    }
    return { host };
  }
  for (const prop of FUNCTION_HOST_PROPS) {
    if (props[prop] !== undefined) {
      throw new SsePubSubConfigError(
        `SsePubSub: ${prop} configures the stream function and cannot be used with subscribeHost 'webFunction', got ${JSON.stringify(props[prop])}`,
      );
    }
  }

  const given = props.webFunction ?? {};
  const concurrency = given.maxConcurrencyPerEnvironment ?? DEFAULT_WEB_FUNCTION_MAX_CONCURRENCY;
  const { min, max } = WEB_FUNCTION_CONCURRENCY_RANGE;
  if (!Number.isSafeInteger(concurrency) || concurrency < min || concurrency > max) {
    throw new SsePubSubConfigError(
      `SsePubSub: webFunction.maxConcurrencyPerEnvironment must be an integer from ${min} to ${max}, got ${concurrency}`,
    );
  }

  const environments = given.maxEnvironments;
  if (
    environments !== undefined &&
    (!Number.isSafeInteger(environments) || environments < WEB_FUNCTION_MIN_ENVIRONMENTS)
  ) {
    throw new SsePubSubConfigError(
      `SsePubSub: webFunction.maxEnvironments must be an integer of at least ${WEB_FUNCTION_MIN_ENVIRONMENTS}, got ${environments}`,
    );
  }

  const timeout =
    given.timeout ?? Duration.seconds(stream.lifetimeSeconds + STREAM_TIMEOUT_HEADROOM.toSeconds());
  const timeoutSeconds = wholeUnits(
    timeout.toSeconds({ integral: false }),
    'webFunction.timeout',
    'seconds',
  );
  const range = WEB_FUNCTION_TIMEOUT_RANGE;
  if (timeoutSeconds < range.min.toSeconds() || timeoutSeconds > range.max.toSeconds()) {
    throw new SsePubSubConfigError(
      `SsePubSub: webFunction.timeout must be from ${range.min.toHumanString()} to ${range.max.toHumanString()}, got ${timeout.toHumanString()}`,
    );
  }
  const leastSeconds = stream.lifetimeSeconds + DEADLINE_MARGIN.toSeconds();
  if (timeoutSeconds <= leastSeconds) {
    throw new SsePubSubConfigError(
      `SsePubSub: webFunction.timeout must be more than streamLifetime plus ${DEADLINE_MARGIN.toHumanString()} ` +
        `(${Duration.seconds(leastSeconds).toHumanString()}): a stream ends that long before its deadline, ` +
        `got ${timeout.toHumanString()}`,
    );
  }

  const endpointAuth = given.endpointAuth ?? lambda.WebFunctionAuthType.APPLICATION_MANAGED;
  if (!WEB_FUNCTION_AUTH_TYPES.includes(endpointAuth)) {
    throw new SsePubSubConfigError(
      `SsePubSub: webFunction.endpointAuth must be a lambda.WebFunctionAuthType, got ${JSON.stringify(endpointAuth)}`,
    );
  }

  return {
    host,
    webFunction: {
      timeout: Duration.seconds(timeoutSeconds),
      maxConcurrencyPerEnvironment: concurrency,
      maxEnvironments: environments,
      endpointAuth,
    },
  };
}
