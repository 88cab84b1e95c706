import {
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { SsePubSub } from '../../lib/index.js';
import { newApp } from './template-helpers.js';

/** Someone else's stack that owns the topic their services already publish to. */
class MessagingStack extends Stack {
  public readonly orders: sns.Topic;
  public readonly alarms: sns.Topic;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.orders = new sns.Topic(this, 'Orders', { fifo: true, enforceSSL: true });
    this.alarms = new sns.Topic(this, 'Alarms', { enforceSSL: true });
  }
}

/** A team's own app stack that drops the construct in, with its own outputs and roles. */
class OrdersApiStack extends Stack {
  public readonly live: SsePubSub;

  constructor(scope: Construct, id: string, messaging: MessagingStack, props?: StackProps) {
    super(scope, id, props);
    this.live = new SsePubSub(this, 'LiveUpdates', {
      topic: messaging.orders,
      fifo: true,
      retention: Duration.hours(6),
      architecture: lambda.Architecture.X86_64,
      writerMemorySize: 512,
      streamMemorySize: 256,
      streamLifetime: Duration.minutes(10),
      heartbeatInterval: Duration.seconds(10),
      corsOrigins: ['https://shop.example.com'],
      removalPolicy: RemovalPolicy.DESTROY,
      logRetention: logs.RetentionDays.ONE_WEEK,
      streamAuthType: lambda.FunctionUrlAuthType.AWS_IAM,
      cloudFront: true,
      auth: { privateChannelPrefixes: ['customer/'] },
      alarmTopic: messaging.alarms,
    });

    const backend = new iam.Role(this, 'OrdersService', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });
    this.live.grantPublish(backend);
    this.live.grantTokenSigning(backend);
    new CfnOutput(this, 'OrdersStreamUrl', { value: this.live.streamUrl });
  }
}

/** The two stacks; `extend` adds to the team's stack before anything is synthesised. */
function build(extend?: (api: OrdersApiStack) => void) {
  const app = newApp();
  const env = { account: '123456789012', region: 'eu-west-1' };
  const messaging = new MessagingStack(app, 'Messaging', { env });
  const api = new OrdersApiStack(app, 'OrdersApi', messaging, { env });
  extend?.(api);
  return { app, messaging, api, template: Template.fromStack(api) };
}

describe('Construct: SsePubSub, reused in another app', () => {
  it('subscribes to a topic owned by another stack, creating no topic of its own', () => {
    // Act
    const { template, api } = build();

    // Assess
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      TopicArn: { 'Fn::ImportValue': Match.stringLikeRegexp('^Messaging:') },
    });
    expect(api.live.fifo).toBe(true);
    template.allResourcesProperties('AWS::SQS::Queue', { FifoQueue: true });
  });

  it('applies the non-default props under its own construct id', () => {
    // Act
    const { template } = build();

    // Assess
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.allResourcesProperties('AWS::Lambda::Function', {
      Architectures: ['x86_64'],
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 256,
      Timeout: 600 + 60,
      Environment: {
        Variables: Match.objectLike({
          RETENTION_SECONDS: String(6 * 3600),
          HEARTBEAT_SECONDS: '10',
          CORS_ORIGINS: 'https://shop.example.com',
          AUTH_PRIVATE_PREFIXES: 'customer/',
          AUTH_SECRET_ARN: { Ref: Match.stringLikeRegexp('^LiveUpdatesTokenSecret') },
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512 });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      InvokeMode: 'RESPONSE_STREAM',
    });
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasOutput('OrdersStreamUrl', {
      Value: {
        'Fn::Join': [
          '',
          [
            'https://',
            { 'Fn::GetAtt': [Match.stringLikeRegexp('^LiveUpdatesDistribution'), 'DomainName'] },
            '/',
          ],
        ],
      },
    });
  });

  it('sends its alarms to the other stack’s topic and grants the team’s role', () => {
    // Act
    const { template } = build();

    // Assess
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(10);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([
        { 'Fn::ImportValue': expect.stringMatching(/^Messaging:/) },
      ]);
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^OrdersService') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sns:Publish' }),
          Match.objectLike({
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          }),
        ]),
      },
    });
  });

  it('lives beside a second instance in the same stack without clashing', () => {
    // Act
    const { template } = build(
      (api) => new SsePubSub(api, 'AuditTrail', { retention: Duration.days(7) }),
    );

    // Assess
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 2);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 20);
  });

  it('passes the AwsSolutions checks with nothing unacknowledged', () => {
    // Prepare
    const { app } = build();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Act
    const report = new AwsSolutionsChecks().validateScope(app);

    // Assess
    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
    expect(() => app.synth()).not.toThrow();
  });
});
