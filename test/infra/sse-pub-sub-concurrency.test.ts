import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS, stackPropsFromContext } from '../../lib/app-context.js';
import { SsePubSubConfigError } from '../../lib/index.js';
import { SsePubSubStack } from '../../lib/sse-pub-sub-stack.js';
import {
  buildConstruct,
  newApp,
  type PropsInStack,
  resourceProperties,
  synthConstruct,
} from './template-helpers.js';

const writerProperties = (template: Template) =>
  resourceProperties(template, 'AWS::Lambda::Function', 'PubSubWriter');
const streamProperties = (template: Template) =>
  resourceProperties(template, 'AWS::Lambda::Function', 'PubSubStream');
const concurrencyAlarm = (template: Template) =>
  resourceProperties(template, 'AWS::CloudWatch::Alarm', 'PubSubMonitoringStreamConcurrency');
const eventSourceMapping = (template: Template) =>
  Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))[0]?.Properties;

const NOTIFIES_NOBODY = Match.stringLikeRegexp('alarms notify nobody');

function stackFromContext(context: Record<string, unknown>) {
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  return new SsePubSubStack(app, 'SsePubSub', stackPropsFromContext(app.node));
}

describe('Construct: SsePubSub, concurrency', () => {
  it('reserves 5 executions for the writer and caps its queue event source at the same 5', () => {
    // Act
    const template = synthConstruct();

    // Assess
    expect(writerProperties(template).ReservedConcurrentExecutions).toBe(5);
    expect(eventSourceMapping(template)?.ScalingConfig).toEqual({ MaximumConcurrency: 5 });
  });

  it('caps the stream function at 100 concurrent streams by default', () => {
    // Act
    const template = synthConstruct();

    // Assess
    expect(streamProperties(template).ReservedConcurrentExecutions).toBe(100);
  });

  it('takes writerReservedConcurrency and maxStreams', () => {
    // Act
    const template = synthConstruct({ writerReservedConcurrency: 12, maxStreams: 250 });

    // Assess
    expect(writerProperties(template).ReservedConcurrentExecutions).toBe(12);
    expect(eventSourceMapping(template)?.ScalingConfig).toEqual({ MaximumConcurrency: 12 });
    expect(streamProperties(template).ReservedConcurrentExecutions).toBe(250);
  });

  it.each<[string, PropsInStack, RegExp]>([
    ['maxStreams 0', { maxStreams: 0 }, /maxStreams must be a positive integer.*got 0/],
    ['maxStreams -3', { maxStreams: -3 }, /maxStreams must be a positive integer/],
    ['maxStreams 2.5', { maxStreams: 2.5 }, /maxStreams must be a positive integer.*got 2\.5/],
    ['maxStreams NaN', { maxStreams: Number.NaN }, /maxStreams/],
    [
      'writerReservedConcurrency 1',
      { writerReservedConcurrency: 1 },
      /writerReservedConcurrency must be an integer from 2 to 1000.*got 1$/,
    ],
    [
      'writerReservedConcurrency 1001',
      { writerReservedConcurrency: 1001 },
      /writerReservedConcurrency must be an integer from 2 to 1000/,
    ],
    [
      'writerReservedConcurrency 4.5',
      { writerReservedConcurrency: 4.5 },
      /writerReservedConcurrency.*got 4\.5/,
    ],
  ])('rejects %s, naming the prop', (_name, props, message) => {
    // Act & Assess
    expect(() => buildConstruct(props)).toThrow(SsePubSubConfigError);
    expect(() => buildConstruct(props)).toThrow(message);
  });
});

describe('Construct: SsePubSub, streams near the maximum', () => {
  it('alarms when the stream function’s concurrent executions reach 80 % of maxStreams', () => {
    // Act
    const template = synthConstruct();

    // Assess
    expect(concurrencyAlarm(template)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'ConcurrentExecutions',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: expect.stringMatching(/^PubSubStream/) } },
      ],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 80,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(concurrencyAlarm(template).AlarmDescription).toMatch(
      /^SSE pub\/sub: .*maxStreams \(100\)/,
    );
  });

  it.each([
    [250, 200],
    [7, 6],
    [1, 1],
  ])('puts the threshold for maxStreams %i at %i (rounded up)', (maxStreams, threshold) => {
    // Act
    const template = synthConstruct({ maxStreams });

    // Assess
    expect(concurrencyAlarm(template).Threshold).toBe(threshold);
  });

  it('exposes the alarm as alarms.streamConcurrency and notifies the alarm topic with it', () => {
    // Act
    const { stack, pubSub } = buildConstruct((scope) => ({
      alarmTopic: new sns.Topic(scope, 'Ops'),
    }));

    // Assess
    expect(stack.getLogicalId(pubSub.alarms.streamConcurrency?.node.defaultChild as never)).toMatch(
      /^PubSubMonitoringStreamConcurrency[0-9A-F]{8}$/,
    );
    const properties = concurrencyAlarm(Template.fromStack(stack));
    expect(properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Ops/) }]);
    expect(properties.OKActions).toEqual(properties.AlarmActions);
  });

  it('names maxStreams in the stream throttles alarm', () => {
    // Act
    const template = synthConstruct({ maxStreams: 42 });

    // Assess
    const throttles = resourceProperties(
      template,
      'AWS::CloudWatch::Alarm',
      'PubSubMonitoringStreamThrottles',
    );
    expect(throttles.AlarmDescription).toMatch(/42 streams \(maxStreams/);
  });

  it('marks maxStreams on the dashboard’s concurrency graph', () => {
    // Act
    const template = synthConstruct({ maxStreams: 321 });

    // Assess
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0];
    expect(JSON.stringify(dashboard?.Properties.DashboardBody)).toContain(
      '{\\"value\\":321,\\"label\\":\\"maxStreams\\",\\"yAxis\\":\\"right\\"}',
    );
  });
});

describe('Construct: SsePubSub, alarm destinations', () => {
  it('warns at synth that the alarms notify nobody without alarmTopic or alarmEmails', () => {
    // Act
    const { stack, pubSub } = buildConstruct();

    // Assess
    Annotations.fromStack(stack).hasWarning('/TestStack/PubSub', NOTIFIES_NOBODY);
    expect(pubSub.alarmTopic).toBeUndefined();
  });

  it('does not warn with an alarm topic', () => {
    // Act
    const { stack, pubSub } = buildConstruct((scope) => ({
      alarmTopic: new sns.Topic(scope, 'Ops'),
    }));

    // Assess
    Annotations.fromStack(stack).hasNoWarning('*', NOTIFIES_NOBODY);
    expect(pubSub.alarmTopic).toBeDefined();
  });

  it('makes an SSL-only alarm topic for alarmEmails, subscribes each address and notifies it', () => {
    // Act
    const { stack, pubSub } = buildConstruct({
      alarmEmails: ['ops@example.com', 'dev@example.com'],
    });
    const template = Template.fromStack(stack);

    // Assess
    Annotations.fromStack(stack).hasNoWarning('*', NOTIFIES_NOBODY);
    expect(stack.getLogicalId(pubSub.alarmTopic?.node.defaultChild as never)).toMatch(
      /^PubSubAlarmTopic[0-9A-F]{8}$/,
    );
    for (const email of ['ops@example.com', 'dev@example.com']) {
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: email,
        TopicArn: { Ref: Match.stringLikeRegexp('^PubSubAlarmTopic') },
      });
    }
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: Match.stringLikeRegexp('^PubSubAlarmTopic') }],
    });
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^PubSubAlarmTopic') }],
    });
  });

  it.each<[string, PropsInStack, RegExp]>([
    [
      'alarmTopic with alarmEmails',
      (scope) => ({ alarmTopic: new sns.Topic(scope, 'Ops'), alarmEmails: ['ops@example.com'] }),
      /alarmTopic or alarmEmails, not both/,
    ],
    [
      'an address without @',
      { alarmEmails: ['ops.example.com'] },
      /alarmEmails.*"ops\.example\.com"/,
    ],
    ['two addresses in one entry', { alarmEmails: ['a@b.c,d@e.f'] }, /alarmEmails/],
  ])('rejects %s', (_name, props, message) => {
    // Act & Assess
    expect(() => buildConstruct(props)).toThrow(SsePubSubConfigError);
    expect(() => buildConstruct(props)).toThrow(message);
  });
});

describe('Stack: SsePubSubStack, alarm destinations', () => {
  const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:on-call';

  it('outputs the alarm topic ARN when alarmEmails made the topic', () => {
    // Act
    const template = Template.fromStack(
      new SsePubSubStack(newApp(), 'SsePubSub', { alarmEmails: ['ops@example.com'] }),
    );

    // Assess
    template.hasOutput('AlarmTopicArn', { Value: { Ref: Match.stringLikeRegexp('^AlarmTopic') } });
  });

  it('notifies a topic named by ARN, and outputs it', () => {
    // Act
    const stack = new SsePubSubStack(newApp(), 'SsePubSub', { alarmTopicArn: TOPIC_ARN });
    const template = Template.fromStack(stack);

    // Assess
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [TOPIC_ARN] });
    template.hasOutput('AlarmTopicArn', { Value: TOPIC_ARN });
    template.resourceCountIs('AWS::SNS::Topic', 1);
    Annotations.fromStack(stack).hasNoWarning('*', NOTIFIES_NOBODY);
  });

  it('adds pubSub.alarmEmails to the stack’s alarm topic', () => {
    // Act
    const template = Template.fromStack(
      new SsePubSubStack(newApp(), 'SsePubSub', {
        alarmEmails: ['ops@example.com'],
        pubSub: { alarmEmails: ['dev@example.com'] },
      }),
    );

    // Assess
    template.resourceCountIs('AWS::SNS::Topic', 2);
    for (const email of ['ops@example.com', 'dev@example.com']) {
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Endpoint: email,
        TopicArn: { Ref: Match.stringLikeRegexp('^AlarmTopic') },
      });
    }
  });

  it('outputs no alarm topic and warns without one', () => {
    // Act
    const stack = new SsePubSubStack(newApp(), 'SsePubSub');

    // Assess
    expect(Template.fromStack(stack).findOutputs('AlarmTopicArn')).toEqual({});
    Annotations.fromStack(stack).hasWarning('/SsePubSub/PubSub', NOTIFIES_NOBODY);
  });

  it.each<[string, (app: App) => SsePubSubStack]>([
    [
      'alarmTopicArn with alarmEmails',
      (app) =>
        new SsePubSubStack(app, 'S', { alarmTopicArn: TOPIC_ARN, alarmEmails: ['a@example.com'] }),
    ],
    [
      'alarmTopicArn with pubSub.alarmTopic',
      (app) => {
        const other = new SsePubSubStack(app, 'Other');
        return new SsePubSubStack(app, 'S', {
          alarmTopicArn: TOPIC_ARN,
          pubSub: { alarmTopic: new sns.Topic(other, 'Ops') },
        });
      },
    ],
    [
      'pubSub.alarmTopic with alarmEmails',
      (app) => {
        const other = new SsePubSubStack(app, 'Other');
        return new SsePubSubStack(app, 'S', {
          alarmEmails: ['a@example.com'],
          pubSub: { alarmTopic: new sns.Topic(other, 'Ops') },
        });
      },
    ],
  ])('rejects %s instead of ignoring one', (_name, build) => {
    // Act & Assess
    expect(() => build(newApp())).toThrow(SsePubSubConfigError);
    expect(() => build(newApp())).toThrow(/one alarm destination/);
  });
});

describe('Function: stackPropsFromContext, concurrency and alarms', () => {
  it('reads maxStreams, writerReservedConcurrency and alarmTopicArn', () => {
    // Act
    const stack = stackFromContext({
      [CONTEXT_KEYS.maxStreams]: '300',
      [CONTEXT_KEYS.writerReservedConcurrency]: 8,
      [CONTEXT_KEYS.alarmTopicArn]: 'arn:aws:sns:eu-west-1:123456789012:on-call',
    });
    const template = Template.fromStack(stack);

    // Assess
    expect(streamProperties(template).ReservedConcurrentExecutions).toBe(300);
    expect(writerProperties(template).ReservedConcurrentExecutions).toBe(8);
    template.hasOutput('AlarmTopicArn', { Value: 'arn:aws:sns:eu-west-1:123456789012:on-call' });
  });

  it.each([
    [CONTEXT_KEYS.maxStreams, '0'],
    [CONTEXT_KEYS.maxStreams, '1.5'],
    [CONTEXT_KEYS.writerReservedConcurrency, 'five'],
    [CONTEXT_KEYS.alarmTopicArn, 'on-call'],
    [CONTEXT_KEYS.alarmTopicArn, 'arn:aws:sqs:eu-west-1:123456789012:on-call'],
  ])('rejects %s = %j, naming the key', (key, value) => {
    // Act & Assess
    expect(() => stackFromContext({ [key]: value })).toThrow(SsePubSubConfigError);
    expect(() => stackFromContext({ [key]: value })).toThrow(key);
  });
});
