import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEPLOYMENT_DEFAULTS } from '../functions/config/environment.js';

/** `POWERTOOLS_METRICS_NAMESPACE` of the writer: where its embedded metrics land. */
export const METRICS_NAMESPACE = 'SsePubSub';
/**
 * `POWERTOOLS_SERVICE_NAME` of the writer. Powertools adds it to every metric as the
 * `service` dimension, so the alarms and the dashboard select the writer's metrics by it.
 */
export const WRITER_SERVICE_NAME = 'sse-pubsub-writer';
/**
 * `POWERTOOLS_SERVICE_NAME` of the subscribe routes on either host: their log lines'
 * `service`, and the `service` dimension of their embedded metrics.
 */
export const STREAM_SERVICE_NAME = 'sse-pubsub-stream';
/**
 * The subscribe routes write their metrics once per flush interval, each server its
 * `OpenStreams` once: a sum over that period and all servers is the streams open.
 */
export const OPEN_STREAMS_PERIOD = Duration.seconds(DEPLOYMENT_DEFAULTS.streamMetricsFlushSeconds);

/** Every alarm looks at 5-minute sums or maxima: one breaching period raises it. */
export const ALARM_PERIOD = Duration.minutes(5);
/**
 * The oldest message in the queue is older than this: the writer is not keeping up, or
 * one channel's appends keep failing (on FIFO, that holds up its whole message group).
 * A healthy writer takes messages within seconds.
 */
export const QUEUE_AGE_THRESHOLD = Duration.minutes(5);

/**
 * The `streamConcurrency` alarm fires when concurrent streams reach this share of
 * `maxStreams`. 80 % is a choice: room to raise `maxStreams` (or see why streams pile up)
 * before subscribers are turned away.
 */
export const STREAM_CONCURRENCY_ALARM_RATIO = 0.8;

/** The `streamConcurrency` alarm's threshold for `maxStreams`: at least one stream. */
export function streamConcurrencyThreshold(maxStreams: number): number {
  return Math.max(1, Math.ceil(maxStreams * STREAM_CONCURRENCY_ALARM_RATIO));
}

/**
 * The alarms of one {@link SsePubSub}. Each fires on the first 5-minute period that
 * breaches it and treats missing data as fine (a quiet system publishes no metrics).
 */
export interface SsePubSubAlarms {
  /**
   * Messages are waiting in the dead-letter queue (`ApproximateNumberOfMessagesVisible`
   * > 0): messages the writer rejected (attribute `rejectReason`) or failed on
   * `maxReceiveCount` times. Someone must look at them, fix the cause and redrive.
   */
  readonly deadLetterQueueDepth: cloudwatch.Alarm;
  /**
   * The writer rejected messages that break the publishing contract (`MessagesRejected`
   * in namespace `SsePubSub`, dimension `service` = `sse-pubsub-writer`, sum > 0): a
   * publisher is sending bad channel or event names, payloads or attributes.
   */
  readonly messagesRejected: cloudwatch.Alarm;
  /** The queue's oldest message is older than 5 minutes: events reach subscribers late. */
  readonly queueAge: cloudwatch.Alarm;
  /** Writer invocations failed as a whole (`Errors` sum > 0); their batch is retried. */
  readonly writerErrors: cloudwatch.Alarm;
  /**
   * Writer invocations were throttled (`Throttles` sum > 0): more ran at once than
   * `writerReservedConcurrency` allows. The event source stops at that number, so this
   * points at invocations from outside the queue.
   */
  readonly writerThrottles: cloudwatch.Alarm;
  /**
   * Stream or poll invocations failed (`Errors` sum > 0), including timeouts. With the
   * stream function (`subscribeHost: 'functionUrl'`) only, as the next two.
   */
  readonly streamErrors?: cloudwatch.Alarm;
  /**
   * Subscribers were turned away (`Throttles` sum > 0): `maxStreams` streams were open.
   * Every open stream holds one execution environment.
   */
  readonly streamThrottles?: cloudwatch.Alarm;
  /**
   * Concurrent streams neared the maximum (`ConcurrentExecutions` maximum of the stream
   * function ≥ 80 % of `maxStreams`, rounded up): raise `maxStreams` before subscribers
   * are throttled, or find out why so many streams are open.
   */
  readonly streamConcurrency?: cloudwatch.Alarm;
  /**
   * Events reach streams late: the p99 of `DeliveryLag` (namespace `SsePubSub`,
   * dimension `service` = `sse-pubsub-stream`; an event's append to its write on a
   * stream, for events appended while the stream was open) over 5 minutes is above
   * `deliveryLagAlarmThreshold`. Either host.
   */
  readonly deliveryLag: cloudwatch.Alarm;
  /**
   * DynamoDB throttled reads or writes on the event log (`ReadThrottleEvents` +
   * `WriteThrottleEvents` sum > 0): a hot channel is past one partition's limits
   * (3,000 read / 1,000 write units a second).
   */
  readonly tableThrottles: cloudwatch.Alarm;
}

export interface SsePubSubMonitoringProps {
  readonly table: dynamodb.ITable;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly writer: lambda.IFunction;
  /**
   * The stream function, with its alarms and widgets. Without it (the Web Function host)
   * the dashboard's stream side is the routes' own metrics only: the aws-cdk-lib README
   * says Web Function endpoints publish metrics in the `AWS/Lambda/Web` namespace
   * (dimensions `FunctionName` and `EndpointName`) but names none, and none are guessed
   * here.
   *
   * @default - no stream alarms or widgets
   */
  readonly streamFunction?: lambda.IFunction;
  /**
   * The stream function's reserved concurrency, which `streamConcurrency` measures
   * against; needed with `streamFunction`.
   *
   * @default - none (no stream function)
   */
  readonly maxStreams?: number;
  /** The `deliveryLag` alarm's threshold, milliseconds. */
  readonly deliveryLagThresholdMs: number;
  /**
   * Gets a notification when an alarm fires and when it recovers.
   *
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
}

/** Every alarm that exists, in declaration order. */
function alarmList(alarms: SsePubSubAlarms): cloudwatch.Alarm[] {
  return Object.values(alarms).filter((each) => each !== undefined);
}

function streamLimit(maxStreams: number | undefined): number {
  if (maxStreams === undefined) {
    throw new Error('SsePubSubMonitoring: streamFunction needs maxStreams');
  }
  return maxStreams;
}

/** The alarms and the dashboard of one {@link SsePubSub}. */
export class SsePubSubMonitoring extends Construct {
  public readonly alarms: SsePubSubAlarms;
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: SsePubSubMonitoringProps) {
    super(scope, id);
    const { table, queue, deadLetterQueue, writer, streamFunction, maxStreams } = props;
    const sum = { period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM };
    const maximum = { period: ALARM_PERIOD, statistic: cloudwatch.Stats.MAXIMUM };

    const writerMetric = (metricName: string, label?: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: WRITER_SERVICE_NAME },
        ...(label !== undefined && { label }),
        ...sum,
      });
    const streamMetric = (
      metricName: string,
      options: { statistic: string; label: string; period?: Duration },
    ) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: STREAM_SERVICE_NAME },
        period: options.period ?? ALARM_PERIOD,
        statistic: options.statistic,
        label: options.label,
      });
    // One line per value of the metric's other dimensions (end reasons, reset reasons,
    // status and code); a search cannot back an alarm, only a graph.
    const streamSearch = (metricName: string, dimensions: readonly string[], label: string) =>
      new cloudwatch.MathExpression({
        expression:
          `SEARCH('{${METRICS_NAMESPACE},service,${dimensions.join(',')}} ` +
          `MetricName="${metricName}" service="${STREAM_SERVICE_NAME}"', 'Sum', ${ALARM_PERIOD.toSeconds()})`,
        usingMetrics: {},
        label,
        period: ALARM_PERIOD,
      });
    const deliveryLag = (statistic: string) =>
      streamMetric('DeliveryLag', { statistic, label: `Delivery lag ${statistic} (ms)` });
    const tableThrottles = new cloudwatch.MathExpression({
      // FILL: a period with read throttles but no write throttles still counts.
      expression: 'FILL(readThrottles, 0) + FILL(writeThrottles, 0)',
      usingMetrics: {
        readThrottles: table.metric('ReadThrottleEvents', sum),
        writeThrottles: table.metric('WriteThrottleEvents', sum),
      },
      label: 'Throttled requests (read + write)',
      period: ALARM_PERIOD,
    });

    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string) =>
      new cloudwatch.Alarm(this, alarmId, {
        metric,
        alarmDescription: description,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });

    // Only with the stream function: see `streamFunction` in the props.
    const streamAlarms = (fn: lambda.IFunction, limit: number) => ({
      streamErrors: alarm(
        'StreamErrors',
        fn.metricErrors(sum),
        'SSE pub/sub: stream function invocations failed (or timed out). See the stream log.',
      ),
      streamThrottles: alarm(
        'StreamThrottles',
        fn.metricThrottles(sum),
        `SSE pub/sub: subscribers were turned away: ${limit} streams (maxStreams, each ` +
          'open stream one concurrent execution) were open. Raise maxStreams, within the ' +
          "account's unreserved concurrency.",
      ),
      streamConcurrency: fn
        .metric('ConcurrentExecutions', maximum)
        .createAlarm(this, 'StreamConcurrency', {
          alarmDescription:
            `SSE pub/sub: concurrent streams reached ${Math.round(STREAM_CONCURRENCY_ALARM_RATIO * 100)} % ` +
            `of maxStreams (${limit}); beyond it subscribers are throttled. Raise maxStreams, ` +
            'or find out why so many streams stay open.',
          threshold: streamConcurrencyThreshold(limit),
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    });

    this.alarms = {
      deadLetterQueueDepth: alarm(
        'DeadLetterQueueDepth',
        deadLetterQueue.metricApproximateNumberOfMessagesVisible(maximum),
        'SSE pub/sub: messages are waiting in the dead-letter queue. Rejected ones carry ' +
          'rejectReason/rejectDetail attributes; others failed maxReceiveCount times. Fix the ' +
          'cause, then redrive them to the queue.',
      ),
      messagesRejected: alarm(
        'MessagesRejected',
        writerMetric('MessagesRejected'),
        'SSE pub/sub: the writer rejected messages that break the publishing contract ' +
          '(see MessagesRejectedByReason and the writer log); they are in the dead-letter queue.',
      ),
      queueAge: queue.metricApproximateAgeOfOldestMessage(maximum).createAlarm(this, 'QueueAge', {
        alarmDescription:
          'SSE pub/sub: the oldest queued message is older than 5 minutes, so events ' +
          'reach subscribers late. Check writer errors, throttles and DynamoDB throttling.',
        threshold: QUEUE_AGE_THRESHOLD.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      writerErrors: alarm(
        'WriterErrors',
        writer.metricErrors(sum),
        'SSE pub/sub: writer invocations failed; their messages are retried and move to the ' +
          'dead-letter queue after maxReceiveCount tries. See the writer log.',
      ),
      writerThrottles: alarm(
        'WriterThrottles',
        writer.metricThrottles(sum),
        'SSE pub/sub: writer invocations were throttled past writerReservedConcurrency; ' +
          'appends are delayed. The queue event source stops at that number: look for other ' +
          'callers of the writer.',
      ),
      ...(streamFunction !== undefined && streamAlarms(streamFunction, streamLimit(maxStreams))),
      deliveryLag: deliveryLag('p99').createAlarm(this, 'DeliveryLag', {
        alarmDescription:
          `SSE pub/sub: the p99 delivery lag (append to write on a stream) passed ` +
          `${props.deliveryLagThresholdMs} ms over 5 minutes. Check the subscribe host's ` +
          'errors and CPU, and DynamoDB throttling (reads of the log and the change index).',
        threshold: props.deliveryLagThresholdMs,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      tableThrottles: alarm(
        'TableThrottles',
        tableThrottles,
        'SSE pub/sub: DynamoDB throttled the event log. A hot channel may be past one ' +
          'partition’s limits (3,000 RCU / 1,000 WCU per second).',
      ),
    };

    if (props.alarmTopic !== undefined) {
      const action = new actions.SnsAction(props.alarmTopic);
      for (const each of alarmList(this.alarms)) {
        each.addAlarmAction(action);
        each.addOkAction(action);
      }
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
    const lambdaMetric = (fn: lambda.IFunction, metricName: string, statistic: string) =>
      fn.metric(metricName, {
        period: ALARM_PERIOD,
        statistic,
        label: `${metricName} ${statistic}`,
      });

    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: alarmList(this.alarms),
        width: 24,
        height: 3,
      }),
    );
    this.dashboard.addWidgets(
      graph('Events (writer)', [
        writerMetric('EventsAppended', 'Appended'),
        writerMetric('MessagesRejected', 'Rejected'),
        writerMetric('DuplicatesSkipped', 'Duplicates skipped'),
        writerMetric('AppendFailures', 'Append failures'),
      ]),
      graph(
        'Queues',
        [
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            ...maximum,
            label: 'Dead-letter queue depth',
          }),
          queue.metricApproximateNumberOfMessagesVisible({ ...maximum, label: 'Queue depth' }),
        ],
        [queue.metricApproximateAgeOfOldestMessage({ ...maximum, label: 'Oldest message (s)' })],
      ),
      graph(
        'Writer',
        [
          writer.metricInvocations({ ...sum, label: 'Invocations' }),
          writer.metricErrors({ ...sum, label: 'Errors' }),
          writer.metricThrottles({ ...sum, label: 'Throttles' }),
        ],
        [lambdaMetric(writer, 'Duration', 'p99')],
      ),
    );
    const streamWidgets = (fn: lambda.IFunction, limit: number) => [
      new cloudwatch.GraphWidget({
        title: 'Streams: invocations and concurrency',
        left: [
          fn.metricInvocations({ ...sum, label: 'Invocations' }),
          fn.metricErrors({ ...sum, label: 'Errors' }),
          fn.metricThrottles({ ...sum, label: 'Throttles' }),
        ],
        right: [lambdaMetric(fn, 'ConcurrentExecutions', cloudwatch.Stats.MAXIMUM)],
        // The line concurrency cannot cross: beyond it subscribers are throttled.
        rightAnnotations: [{ value: limit, label: 'maxStreams' }],
        width: 8,
        height: 6,
      }),
      graph('Streams: duration (ms)', [
        lambdaMetric(fn, 'Duration', cloudwatch.Stats.AVERAGE),
        lambdaMetric(fn, 'Duration', 'p99'),
        lambdaMetric(fn, 'Duration', cloudwatch.Stats.MAXIMUM),
      ]),
    ];
    // The routes' own metrics, on either host.
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Streams: open, opened, delivered',
        left: [
          streamMetric('OpenStreams', {
            statistic: cloudwatch.Stats.SUM,
            label: 'Open streams',
            period: OPEN_STREAMS_PERIOD,
          }),
          streamMetric('StreamsOpened', { statistic: cloudwatch.Stats.SUM, label: 'Opened' }),
        ],
        right: [
          streamMetric('EventsDelivered', { statistic: cloudwatch.Stats.SUM, label: 'Delivered' }),
        ],
        width: 8,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Streams: delivery lag (ms)',
        left: [deliveryLag('p50'), deliveryLag('p99'), deliveryLag(cloudwatch.Stats.MAXIMUM)],
        leftAnnotations: [{ value: props.deliveryLagThresholdMs, label: 'deliveryLag alarm' }],
        width: 8,
        height: 6,
      }),
      graph('Streams: ended by reason', [streamSearch('StreamsEnded', ['Reason'], 'Ended')]),
    );
    this.dashboard.addWidgets(
      graph('Streams: resets by reason', [streamSearch('Resets', ['Reason'], 'Resets')]),
      graph('Requests refused by status and code', [
        streamSearch('RequestsRefused', ['Status', 'Code'], 'Refused'),
      ]),
    );
    this.dashboard.addWidgets(
      ...(streamFunction !== undefined
        ? streamWidgets(streamFunction, streamLimit(maxStreams))
        : []),
      graph(
        'DynamoDB: consumed capacity and throttles',
        [
          table.metricConsumedReadCapacityUnits({ ...sum, label: 'Read units' }),
          table.metricConsumedWriteCapacityUnits({ ...sum, label: 'Write units' }),
        ],
        [tableThrottles],
      ),
    );
  }
}
