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

describe('Construct: SsePubSub', () => {
  describe('Alarms', () => {
    it('makes exactly the nine documented alarms, each exposed on alarms', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct();

      // Act
      const template = Template.fromStack(stack);

      // Assess
      template.resourceCountIs('AWS::CloudWatch::Alarm', 9);
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
      expect(Object.keys(alarms)).toHaveLength(9);
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
