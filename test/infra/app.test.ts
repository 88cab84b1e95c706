import { App, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS, stackPropsFromContext } from '../../lib/app-context.js';
import { SsePubSubConfigError } from '../../lib/index.js';
import { SsePubSubStack } from '../../lib/sse-pub-sub-stack.js';
import { newApp } from './template-helpers.js';

function fromContext(context: Record<string, unknown>) {
  return stackPropsFromContext(new App({ context }).node);
}

describe('Stack: SsePubSubStack', () => {
  it('outputs the distribution URL as StreamUrl with CloudFront, and the function URL beside it', () => {
    // Act
    const template = Template.fromStack(
      new SsePubSubStack(newApp(), 'SsePubSub', { pubSub: { cloudFront: true } }),
    );

    // Assess
    template.hasOutput('StreamUrl', {
      Value: {
        'Fn::Join': [
          '',
          [
            'https://',
            { 'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubDistribution'), 'DomainName'] },
            '/',
          ],
        ],
      },
    });
    template.hasOutput('FunctionUrl', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubStreamFunctionUrl'), 'FunctionUrl'] },
    });
    template.hasOutput('TopicArn', { Value: { Ref: Match.stringLikeRegexp('^PubSubTopic') } });
  });

  it('outputs the token secret ARN with auth, and the dashboard name and dead-letter queue ARN always', () => {
    // Act
    const template = Template.fromStack(
      new SsePubSubStack(newApp(), 'SsePubSub', {
        pubSub: { auth: { privateChannelPrefixes: ['private/'] } },
      }),
    );

    // Assess
    template.hasOutput('TokenSecretArn', {
      Value: { Ref: Match.stringLikeRegexp('^PubSubTokenSecret') },
    });
    template.hasOutput('DashboardName', {
      Value: { Ref: Match.stringLikeRegexp('^PubSubMonitoringDashboard') },
    });
    // What the redrive command in docs/deploy.md takes as --source-arn.
    template.hasOutput('DeadLetterQueueArn', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubDeadLetterQueue'), 'Arn'] },
    });
    expect(template.findOutputs('FunctionUrl')).toEqual({});
  });

  it('outputs a FIFO topic ARN as TopicArn in the FIFO variant', () => {
    // Act
    const stack = new SsePubSubStack(newApp(), 'SsePubSub', { pubSub: { fifo: true } });

    // Assess
    Template.fromStack(stack).hasOutput('TopicArn', {
      Value: { Ref: Match.stringLikeRegexp('^PubSubTopic') },
    });
    expect(stack.pubSub.topic.fifo).toBe(true);
  });

  it('makes an SSL-only alarm topic with an email subscription per address', () => {
    // Act
    const stack = new SsePubSubStack(newApp(), 'SsePubSub', {
      alarmEmails: ['ops@example.com', 'oncall@example.com'],
    });
    const template = Template.fromStack(stack);

    // Assess
    template.resourceCountIs('AWS::SNS::Subscription', 3);
    for (const email of ['ops@example.com', 'oncall@example.com']) {
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: email,
        TopicArn: { Ref: Match.stringLikeRegexp('^AlarmTopic') },
      });
    }
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }],
    });
    expect(stack.alarmTopic).toBeDefined();
  });

  it('makes no alarm topic without addresses', () => {
    // Act
    const stack = new SsePubSubStack(newApp(), 'SsePubSub');

    // Assess
    Template.fromStack(stack).resourceCountIs('AWS::SNS::Topic', 1);
    expect(stack.alarmTopic).toBeUndefined();
  });
});

describe('Function: stackPropsFromContext', () => {
  it('sets nothing without context', () => {
    // Act & Assess
    expect(fromContext({})).toEqual({});
  });

  it('reads every setting as the CLI passes it (strings, comma-separated lists)', () => {
    // Act
    const props = fromContext({
      [CONTEXT_KEYS.fifo]: 'true',
      [CONTEXT_KEYS.cloudFront]: 'false',
      [CONTEXT_KEYS.streamAuthType]: 'aws_iam',
      [CONTEXT_KEYS.privateChannelPrefixes]: 'private/, user/',
      [CONTEXT_KEYS.corsOrigins]: 'https://a.example,https://b.example',
      [CONTEXT_KEYS.retentionHours]: '6',
      [CONTEXT_KEYS.removalPolicy]: 'destroy',
      [CONTEXT_KEYS.alarmEmails]: 'ops@example.com',
    });

    // Assess
    expect(props.alarmEmails).toEqual(['ops@example.com']);
    expect(props.pubSub).toMatchObject({
      fifo: true,
      cloudFront: false,
      streamAuthType: lambda.FunctionUrlAuthType.AWS_IAM,
      auth: { privateChannelPrefixes: ['private/', 'user/'] },
      corsOrigins: ['https://a.example', 'https://b.example'],
      removalPolicy: RemovalPolicy.DESTROY,
    });
    expect(props.pubSub?.retention?.toHours()).toBe(6);
  });

  it('reads cdk.json values: booleans, numbers and arrays', () => {
    // Act
    const props = fromContext({
      [CONTEXT_KEYS.cloudFront]: true,
      [CONTEXT_KEYS.retentionHours]: 48,
      [CONTEXT_KEYS.corsOrigins]: ['*'],
    });

    // Assess
    expect(props.pubSub).toMatchObject({ cloudFront: true, corsOrigins: ['*'] });
    expect(props.pubSub?.retention?.toHours()).toBe(48);
  });

  it('reads the subscribe host, in any case', () => {
    // Act & Assess
    expect(fromContext({ [CONTEXT_KEYS.subscribeHost]: 'webFunction' }).pubSub).toEqual({
      subscribeHost: 'webFunction',
    });
    expect(fromContext({ [CONTEXT_KEYS.subscribeHost]: 'WEBFUNCTION' }).pubSub).toEqual({
      subscribeHost: 'webFunction',
    });
    expect(fromContext({ [CONTEXT_KEYS.subscribeHost]: 'functionUrl' }).pubSub).toEqual({
      subscribeHost: 'functionUrl',
    });
    expect(CONTEXT_KEYS.subscribeHost).toBe('ssePubSub:subscribeHost');
  });

  it('builds the Web Function stack from -c ssePubSub:subscribeHost=webFunction', () => {
    // Prepare
    const app = newApp();
    app.node.setContext(CONTEXT_KEYS.subscribeHost, 'webFunction');

    // Act
    const template = Template.fromStack(
      new SsePubSubStack(app, 'SsePubSub', stackPropsFromContext(app.node)),
    );

    // Assess
    template.resourceCountIs('AWS::Lambda::WebFunction', 1);
    template.resourceCountIs('AWS::Lambda::Url', 0);
    template.hasOutput('StreamUrl', {
      Value: {
        'Fn::Join': [
          '',
          [
            'https://',
            { 'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubWebServerEndpoint'), 'DomainName'] },
            '/',
          ],
        ],
      },
    });
  });

  it.each([
    [CONTEXT_KEYS.subscribeHost, 'lambda'],
    [CONTEXT_KEYS.fifo, 'yes'],
    [CONTEXT_KEYS.streamAuthType, 'IAM'],
    [CONTEXT_KEYS.retentionHours, '1.5'],
    [CONTEXT_KEYS.removalPolicy, 'snapshot'],
    [CONTEXT_KEYS.corsOrigins, 42],
  ])('rejects %s = %j, naming the key', (key, value) => {
    // Act & Assess
    expect(() => fromContext({ [key]: value })).toThrow(SsePubSubConfigError);
    expect(() => fromContext({ [key]: value })).toThrow(key);
  });
});
