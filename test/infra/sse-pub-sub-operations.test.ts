import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { SsePubSubConfigError } from '../../lib/index.js';
import { buildConstruct, resourceProperties, synthConstruct } from './template-helpers.js';

/** Every alarm the construct makes, by its property in `pubSub.alarms`. */
const ALARM_IDS = {
  deadLetterQueueDepth: 'PubSubMonitoringDeadLetterQueueDepth',
  messagesRejected: 'PubSubMonitoringMessagesRejected',
  queueAge: 'PubSubMonitoringQueueAge',
  writerErrors: 'PubSubMonitoringWriterErrors',
  writerThrottles: 'PubSubMonitoringWriterThrottles',
  streamErrors: 'PubSubMonitoringStreamErrors',
  streamThrottles: 'PubSubMonitoringStreamThrottles',
  streamConcurrency: 'PubSubMonitoringStreamConcurrency',
  deliveryLag: 'PubSubMonitoringDeliveryLag',
  tableThrottles: 'PubSubMonitoringTableThrottles',
} as const;

function alarm(template: Template, name: keyof typeof ALARM_IDS) {
  return resourceProperties(template, 'AWS::CloudWatch::Alarm', ALARM_IDS[name]);
}

const ref = (prefix: string) => ({ Ref: expect.stringMatching(new RegExp(`^${prefix}`)) });
const queueName = (prefix: string) => ({
  'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${prefix}`)), 'QueueName'],
});
/** What every alarm shares: one 5-minute period above the threshold; no data is fine. */
const ON_FIRST_BREACH = {
  ComparisonOperator: 'GreaterThanThreshold',
  EvaluationPeriods: 1,
  TreatMissingData: 'notBreaching',
};

interface DashboardWidget {
  readonly properties: { readonly title?: string; readonly metrics?: unknown[][] };
}

/** The dashboard's widgets, with every token in its body read as the string "TOKEN". */
function dashboardWidgets(template: Template): DashboardWidget[] {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const body: unknown = dashboards[0]?.Properties.DashboardBody;
  const parts =
    typeof body === 'object' && body !== null && 'Fn::Join' in body
      ? ((body['Fn::Join'] as [string, unknown[]])[1] ?? [])
      : [body];
  const text = parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return (JSON.parse(text) as { widgets: DashboardWidget[] }).widgets;
}

describe('Construct: SsePubSub', () => {
  describe('Alarms', () => {
    it('makes exactly the ten documented alarms, each exposed on alarms', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct();

      // Act
      const template = Template.fromStack(stack);

      // Assess
      template.resourceCountIs('AWS::CloudWatch::Alarm', 10);
      expect(Object.keys(pubSub.alarms).sort()).toEqual(Object.keys(ALARM_IDS).sort());
      for (const [name, alarmId] of Object.entries(ALARM_IDS)) {
        const logicalId = stack.getLogicalId(
          pubSub.alarms[name as keyof typeof ALARM_IDS]?.node.defaultChild as never,
        );
        expect(logicalId).toMatch(new RegExp(`^${alarmId}[0-9A-F]{8}$`));
      }
    });

    it.each<[keyof typeof ALARM_IDS, Record<string, unknown>]>([
      [
        'deadLetterQueueDepth',
        {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: queueName('PubSubDeadLetterQueue') }],
          Statistic: 'Maximum',
          Period: 300,
          Threshold: 0,
        },
      ],
      [
        'queueAge',
        {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [{ Name: 'QueueName', Value: queueName('PubSubQueue') }],
          Statistic: 'Maximum',
          Period: 300,
          Threshold: 300,
        },
      ],
      [
        'messagesRejected',
        {
          Namespace: 'SsePubSub',
          MetricName: 'MessagesRejected',
          Dimensions: [{ Name: 'service', Value: 'sse-pubsub-writer' }],
          Statistic: 'Sum',
          Period: 300,
          Threshold: 0,
        },
      ],
      ...(
        [
          ['writerErrors', 'Errors', 'PubSubWriter'],
          ['writerThrottles', 'Throttles', 'PubSubWriter'],
          ['streamErrors', 'Errors', 'PubSubStream'],
          ['streamThrottles', 'Throttles', 'PubSubStream'],
        ] as const
      ).map(([name, metricName, fn]): [keyof typeof ALARM_IDS, Record<string, unknown>] => [
        name,
        {
          Namespace: 'AWS/Lambda',
          MetricName: metricName,
          Dimensions: [{ Name: 'FunctionName', Value: ref(`${fn}[0-9A-F]{8}$`) }],
          Statistic: 'Sum',
          Period: 300,
          Threshold: 0,
        },
      ]),
    ])('alarm %s watches the right metric and fires above its threshold', (name, expected) => {
      // Act
      const template = synthConstruct();

      // Assess
      expect(alarm(template, name)).toMatchObject({ ...ON_FIRST_BREACH, ...expected });
      expect(alarm(template, name).AlarmDescription).toMatch(/^SSE pub\/sub: /);
    });

    it('alarms on the p99 delivery lag of the subscribe routes, 5 s unless the props say otherwise', () => {
      const metricOf = (template: Template) => alarm(template, 'deliveryLag');
      const expected = {
        ...ON_FIRST_BREACH,
        Metrics: [
          {
            Id: 'm1',
            ReturnData: true,
            MetricStat: {
              Metric: {
                Namespace: 'SsePubSub',
                MetricName: 'DeliveryLag',
                Dimensions: [{ Name: 'service', Value: 'sse-pubsub-stream' }],
              },
              Period: 300,
              Stat: 'p99',
            },
          },
        ],
      };

      expect(metricOf(synthConstruct())).toMatchObject({ ...expected, Threshold: 5_000 });
      expect(
        metricOf(synthConstruct({ deliveryLagAlarmThreshold: Duration.millis(750) })),
      ).toMatchObject({ ...expected, Threshold: 750 });
      // The same alarm on the Web Function host, whose streams report the same metric.
      expect(metricOf(synthConstruct({ subscribeHost: 'webFunction' }))).toMatchObject(expected);
    });

    it.each([
      [Duration.millis(0), /deliveryLagAlarmThreshold must be at least 1 millisecond/],
      [Duration.millis(1.5), /deliveryLagAlarmThreshold must be whole milliseconds/],
    ])('refuses a delivery-lag threshold of %s', (threshold, message) => {
      expect(() => buildConstruct({ deliveryLagAlarmThreshold: threshold })).toThrow(
        SsePubSubConfigError,
      );
      expect(() => buildConstruct({ deliveryLagAlarmThreshold: threshold })).toThrow(message);
    });

    it('alarms on DynamoDB read and write throttle events of the event log, summed', () => {
      // Act
      const template = synthConstruct();

      // Assess
      const properties = alarm(template, 'tableThrottles');
      expect(properties).toMatchObject({ ...ON_FIRST_BREACH, Threshold: 0 });
      const metrics = properties.Metrics as Array<Record<string, unknown>>;
      expect(metrics.find((m) => m.ReturnData !== false)).toMatchObject({
        Expression: 'FILL(readThrottles, 0) + FILL(writeThrottles, 0)',
      });
      for (const [id, metricName] of [
        ['readThrottles', 'ReadThrottleEvents'],
        ['writeThrottles', 'WriteThrottleEvents'],
      ]) {
        expect(metrics.find((m) => m.Id === id)).toMatchObject({
          ReturnData: false,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/DynamoDB',
              MetricName: metricName,
              Dimensions: [{ Name: 'TableName', Value: ref('PubSubEventLog') }],
            },
            Period: 300,
            Stat: 'Sum',
          },
        });
      }
    });

    it('has no actions without an alarm topic', () => {
      // Act
      const template = synthConstruct();

      // Assess
      for (const name of Object.keys(ALARM_IDS) as Array<keyof typeof ALARM_IDS>) {
        expect(alarm(template, name).AlarmActions).toBeUndefined();
      }
    });

    it('notifies the alarm topic when an alarm fires and when it recovers', () => {
      // Act
      const template = synthConstruct((stack) => ({ alarmTopic: new sns.Topic(stack, 'Ops') }));

      // Assess
      const alarms = template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmActions: [{ Ref: Match.stringLikeRegexp('^Ops') }] },
      });
      expect(Object.keys(alarms)).toHaveLength(10);
      for (const properties of Object.values(alarms).map((a) => a.Properties)) {
        expect(properties.OKActions).toEqual(properties.AlarmActions);
      }
    });
  });

  describe('Dashboard', () => {
    it('shows the alarms, events, queues, writer, streams and DynamoDB', () => {
      // Act
      const template = synthConstruct();

      // Assess
      const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
      expect(dashboards).toHaveLength(1);
      const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
      for (const text of [
        'Alarms',
        'EventsAppended',
        'MessagesRejected',
        'ApproximateNumberOfMessagesVisible',
        'ApproximateAgeOfOldestMessage',
        'Invocations',
        'Duration',
        'ConcurrentExecutions',
        'ConsumedReadCapacityUnits',
        'ConsumedWriteCapacityUnits',
        'ReadThrottleEvents',
        'WriteThrottleEvents',
      ]) {
        expect(body).toContain(text);
      }
    });

    it.each(['functionUrl', 'webFunction'] as const)(
      'shows the subscribe routes’ own metrics on the %s host',
      (subscribeHost) => {
        // Act
        const template = synthConstruct({ subscribeHost });

        // Assess
        const widgets = dashboardWidgets(template);
        const graphed = widgets.flatMap((w) => w.properties.metrics ?? []);
        const named = (metric: string) =>
          graphed.filter((line) => line.includes('SsePubSub') && line.includes(metric));
        for (const metric of ['OpenStreams', 'StreamsOpened', 'EventsDelivered', 'DeliveryLag']) {
          expect(named(metric).length).toBeGreaterThan(0);
        }
        expect(named('DeliveryLag').map((line) => JSON.stringify(line.at(-1)))).toEqual(
          expect.arrayContaining([expect.stringContaining('"stat":"p99"')]),
        );
        const searches = graphed.flatMap((line) => {
          const options = line.at(-1);
          return typeof options === 'object' && options !== null && 'expression' in options
            ? [String(options.expression)]
            : [];
        });
        for (const [metric, dimensions] of [
          ['StreamsEnded', 'Reason'],
          ['Resets', 'Reason'],
          ['RequestsRefused', 'Status,Code'],
        ]) {
          expect(searches).toContain(
            `SEARCH('{SsePubSub,service,${dimensions}} MetricName="${metric}" service="sse-pubsub-stream"', 'Sum', 300)`,
          );
        }
      },
    );
  });

  describe('Stream metrics', () => {
    it.each([
      [
        ['a/', 'b,c/'],
        /metricsChannelPrefixes entries must be non-empty and without a comma, got "b,c\/"/,
      ],
      [[' '], /metricsChannelPrefixes entries must be non-empty and without a comma, got " "/],
      [
        Array.from({ length: 11 }, (_, i) => `p${i}/`),
        /metricsChannelPrefixes may name at most 10 prefixes, got 11/,
      ],
    ])('refuses metricsChannelPrefixes %j', (prefixes, message) => {
      expect(() => buildConstruct({ metricsChannelPrefixes: prefixes })).toThrow(
        SsePubSubConfigError,
      );
      expect(() => buildConstruct({ metricsChannelPrefixes: prefixes })).toThrow(message);
    });
  });

  describe('Logs', () => {
    it('logs JSON at INFO from both functions (Lambda advanced logging controls)', () => {
      // Act
      const template = synthConstruct();

      // Assess
      const functions = Object.values(template.findResources('AWS::Lambda::Function'));
      expect(functions).toHaveLength(2);
      for (const fn of functions) {
        expect(fn.Properties.LoggingConfig).toMatchObject({
          LogFormat: 'JSON',
          ApplicationLogLevel: 'INFO',
          SystemLogLevel: 'INFO',
        });
      }
    });

    it('takes a DEBUG application log level', () => {
      // Act
      const template = synthConstruct({ applicationLogLevel: lambda.ApplicationLogLevel.DEBUG });

      // Assess
      template.allResourcesProperties('AWS::Lambda::Function', {
        LoggingConfig: Match.objectLike({ ApplicationLogLevel: 'DEBUG' }),
      });
    });

    it.each([
      lambda.ApplicationLogLevel.WARN,
      lambda.ApplicationLogLevel.ERROR,
      lambda.ApplicationLogLevel.FATAL,
    ])('refuses %s, which would drop the metric lines the alarms read', (level) => {
      // Act & Assess
      expect(() => synthConstruct({ applicationLogLevel: level })).toThrow(SsePubSubConfigError);
      expect(() => synthConstruct({ applicationLogLevel: level })).toThrow(/applicationLogLevel/);
    });
  });
});
