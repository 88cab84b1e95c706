import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Node } from 'constructs';
import { SsePubSubConfigError } from './errors.js';
import { type SsePubSubProps, SUBSCRIBE_HOSTS } from './props.js';
import type { SsePubSubStackProps } from './sse-pub-sub-stack.js';

/**
 * The settings `bin/app.ts` takes from CDK context, so a deployment is configured
 * without code: `npx cdk deploy -c ssePubSub:fifo=true`, or a `context` entry in
 * `cdk.json` / `cdk.context.json`. From the command line every value is a string;
 * lists are comma-separated there and may be JSON arrays in `cdk.json`.
 */
export const CONTEXT_KEYS = {
  /** `true`: FIFO topic and queues (order kept per channel). */
  fifo: 'ssePubSub:fifo',
  /** `true`: a CloudFront distribution in front of the function URL. */
  cloudFront: 'ssePubSub:cloudFront',
  /** `functionUrl` (default) or `webFunction`: what serves the subscribe routes. */
  subscribeHost: 'ssePubSub:subscribeHost',
  /** `NONE` (default) or `AWS_IAM` (with `cloudFront`: only CloudFront may call it). */
  streamAuthType: 'ssePubSub:streamAuthType',
  /** Private channel prefixes; a token secret is generated. */
  privateChannelPrefixes: 'ssePubSub:privateChannelPrefixes',
  /** Browser origins allowed to subscribe, or `*`. */
  corsOrigins: 'ssePubSub:corsOrigins',
  /** Whole hours events stay readable. */
  retentionHours: 'ssePubSub:retentionHours',
  /** `retain` (default) or `destroy`: the table, log groups and token secret on removal. */
  removalPolicy: 'ssePubSub:removalPolicy',
  /** Email addresses told about alarms. */
  alarmEmails: 'ssePubSub:alarmEmails',
  /** ARN of an existing SNS topic the alarms notify, instead of addresses. */
  alarmTopicArn: 'ssePubSub:alarmTopicArn',
  /** The most concurrent streams: the stream function's reserved concurrency. */
  maxStreams: 'ssePubSub:maxStreams',
  /** The writer's reserved concurrency (and its queue event source's maxConcurrency). */
  writerReservedConcurrency: 'ssePubSub:writerReservedConcurrency',
} as const;

type StackSettings = Pick<SsePubSubStackProps, 'pubSub' | 'alarmEmails' | 'alarmTopicArn'>;

/** The stack props that the context sets; everything unset keeps its default. */
export function stackPropsFromContext(node: Node): StackSettings {
  const read = (key: string): unknown => node.tryGetContext(key);
  const pubSub: { -readonly [K in keyof SsePubSubProps]: SsePubSubProps[K] } = {};

  const fifo = booleanValue(CONTEXT_KEYS.fifo, read(CONTEXT_KEYS.fifo));
  if (fifo !== undefined) pubSub.fifo = fifo;
  const cloudFront = booleanValue(CONTEXT_KEYS.cloudFront, read(CONTEXT_KEYS.cloudFront));
  if (cloudFront !== undefined) pubSub.cloudFront = cloudFront;

  const host = stringValue(CONTEXT_KEYS.subscribeHost, read(CONTEXT_KEYS.subscribeHost));
  if (host !== undefined) {
    const known = SUBSCRIBE_HOSTS.find((name) => name.toLowerCase() === host.toLowerCase());
    if (known === undefined) {
      throw contextError(CONTEXT_KEYS.subscribeHost, SUBSCRIBE_HOSTS.join(' or '), host);
    }
    pubSub.subscribeHost = known;
  }

  const authType = stringValue(CONTEXT_KEYS.streamAuthType, read(CONTEXT_KEYS.streamAuthType));
  if (authType !== undefined) {
    const upper = authType.toUpperCase();
    if (upper !== 'NONE' && upper !== 'AWS_IAM') {
      throw contextError(CONTEXT_KEYS.streamAuthType, 'NONE or AWS_IAM', authType);
    }
    pubSub.streamAuthType =
      upper === 'AWS_IAM' ? lambda.FunctionUrlAuthType.AWS_IAM : lambda.FunctionUrlAuthType.NONE;
  }

  const prefixes = listValue(
    CONTEXT_KEYS.privateChannelPrefixes,
    read(CONTEXT_KEYS.privateChannelPrefixes),
  );
  if (prefixes !== undefined) pubSub.auth = { privateChannelPrefixes: prefixes };
  const origins = listValue(CONTEXT_KEYS.corsOrigins, read(CONTEXT_KEYS.corsOrigins));
  if (origins !== undefined) pubSub.corsOrigins = origins;

  const hours = stringValue(CONTEXT_KEYS.retentionHours, read(CONTEXT_KEYS.retentionHours));
  if (hours !== undefined) {
    if (!/^[1-9][0-9]*$/.test(hours)) {
      throw contextError(CONTEXT_KEYS.retentionHours, 'a whole number of hours', hours);
    }
    pubSub.retention = Duration.hours(Number(hours));
  }

  const removal = stringValue(CONTEXT_KEYS.removalPolicy, read(CONTEXT_KEYS.removalPolicy));
  if (removal !== undefined) {
    const lower = removal.toLowerCase();
    if (lower !== 'retain' && lower !== 'destroy') {
      throw contextError(CONTEXT_KEYS.removalPolicy, 'retain or destroy', removal);
    }
    pubSub.removalPolicy = lower === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
  }

  // Ranges are the construct's to check; here only that the value is a count.
  const maxStreams = countValue(CONTEXT_KEYS.maxStreams, read(CONTEXT_KEYS.maxStreams));
  if (maxStreams !== undefined) pubSub.maxStreams = maxStreams;
  const writerConcurrency = countValue(
    CONTEXT_KEYS.writerReservedConcurrency,
    read(CONTEXT_KEYS.writerReservedConcurrency),
  );
  if (writerConcurrency !== undefined) pubSub.writerReservedConcurrency = writerConcurrency;

  const emails = listValue(CONTEXT_KEYS.alarmEmails, read(CONTEXT_KEYS.alarmEmails));
  const topicArn = stringValue(CONTEXT_KEYS.alarmTopicArn, read(CONTEXT_KEYS.alarmTopicArn));
  if (
    topicArn !== undefined &&
    !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$/.test(topicArn)
  ) {
    throw contextError(CONTEXT_KEYS.alarmTopicArn, 'the ARN of a standard SNS topic', topicArn);
  }
  return {
    ...(Object.keys(pubSub).length > 0 && { pubSub }),
    ...(emails !== undefined && { alarmEmails: emails }),
    ...(topicArn !== undefined && { alarmTopicArn: topicArn }),
  };
}

function contextError(key: string, expected: string, got: unknown): SsePubSubConfigError {
  return new SsePubSubConfigError(`context ${key} must be ${expected}, got ${JSON.stringify(got)}`);
}

function stringValue(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw contextError(key, 'a string', value);
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function countValue(key: string, value: unknown): number | undefined {
  const text = stringValue(key, value);
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text)) throw contextError(key, 'a positive whole number', value);
  return Number(text);
}

function booleanValue(key: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw contextError(key, 'true or false', value);
}

function listValue(key: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const items = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.split(',')
      : undefined;
  if (items === undefined || !items.every((item) => typeof item === 'string')) {
    throw contextError(key, 'a comma-separated list or an array of strings', value);
  }
  const list = items.map((item) => item.trim()).filter((item) => item !== '');
  return list.length === 0 ? undefined : list;
}
