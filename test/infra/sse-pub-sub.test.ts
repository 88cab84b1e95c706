import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { TTL_ATTRIBUTE } from '../../functions/adapters/dynamodb/table.js';
import { SsePubSubStack } from '../../lib/sse-pub-sub-stack.js';
import {
  actionsOf,
  buildConstruct,
  newApp,
  roleActions,
  roleStatements,
  type Statement,
  synthConstruct,
} from './template-helpers.js';

/** Every action the writer's role policies allow, flattened. */
function writerActions(template: Template): string[] {
  return roleActions(template, 'PubSubWriterRole');
}

/** Statements of the writer's role policies that allow one of `prefix`'s actions. */
function writerStatements(template: Template, prefix: string): Statement[] {
  return roleStatements(template, 'PubSubWriterRole').filter((statement) =>
    actionsOf(statement).some((action) => action.startsWith(prefix)),
  );
}

describe('Construct: SsePubSub', () => {
  it('creates the event log table with the keys and TTL attribute the code uses', () => {
    // Act
    const template = synthConstruct();

    // Assess
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'channel', KeyType: 'HASH' },
        { AttributeName: 'position', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'channel', AttributeType: 'S' },
        { AttributeName: 'position', AttributeType: 'N' },
      ]),
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('retains the table by default', () => {
    // Act
    const template = synthConstruct();

    // Assess
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('creates an SSL-only topic', () => {
    // Act
    const template = synthConstruct();

    // Assess
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('creates an encrypted queue whose messages move to the dead-letter queue after 5 receives', () => {
    // Act
    const template = synthConstruct();

    // Assess
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 180,
      RedrivePolicy: {
        deadLetterTargetArn: {
          'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubDeadLetterQueue'), 'Arn'],
        },
        maxReceiveCount: 5,
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 60 * 60,
      RedrivePolicy: Match.absent(),
    });
    const sslDenials = template.findResources('AWS::SQS::QueuePolicy', {
      Properties: {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      },
    });
    expect(Object.keys(sslDenials)).toHaveLength(2);
  });

  it('subscribes the queue to the topic with the SNS envelope (not raw delivery)', () => {
    // Act
    const template = synthConstruct();

    // Assess
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription'));
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]?.Properties).toMatchObject({
      Protocol: 'sqs',
      TopicArn: { Ref: expect.stringMatching(/^PubSubTopic/) },
      Endpoint: { 'Fn::GetAtt': [expect.stringMatching(/^PubSubQueue/), 'Arn'] },
    });
    // Raw delivery would drop the envelope and its MessageId: false, or absent (the default).
    expect([false, undefined]).toContain(subscriptions[0]?.Properties.RawMessageDelivery);
  });

  it('runs the writer on Node.js 22, arm64, with its configuration in the environment', () => {
    // Act
    const template = synthConstruct();

    // Assess: the writer and the stream function.
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 30,
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^PubSubWriterLogGroup') } },
      Environment: {
        Variables: {
          TABLE_NAME: { Ref: Match.stringLikeRegexp('^PubSubEventLog') },
          DEAD_LETTER_QUEUE_URL: { Ref: Match.stringLikeRegexp('^PubSubDeadLetterQueue') },
          RETENTION_SECONDS: '86400',
          POWERTOOLS_SERVICE_NAME: 'sse-pubsub-writer',
          POWERTOOLS_METRICS_NAMESPACE: 'SsePubSub',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('feeds the writer from the queue in batches, reporting failures per message', () => {
    // Act
    const template = synthConstruct();

    // Assess
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubQueue'), 'Arn'] },
      FunctionName: { Ref: Match.stringLikeRegexp('^PubSubWriter') },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('grants the writer exactly GetItem, PutItem and UpdateItem on the table', () => {
    // Act
    const template = synthConstruct();

    // Assess
    const dynamoActions = writerActions(template).filter((action) =>
      action.startsWith('dynamodb:'),
    );
    expect(dynamoActions.sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(dynamoActions).not.toContain('dynamodb:Query');
    expect(dynamoActions).not.toContain('dynamodb:Scan');
    for (const statement of writerStatements(template, 'dynamodb:')) {
      expect(statement.Resource).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^PubSubEventLog/), 'Arn'],
      });
    }
  });

  it('lets the writer consume the queue and send only to the dead-letter queue', () => {
    // Act
    const template = synthConstruct();

    // Assess
    const sqsStatements = writerStatements(template, 'sqs:');
    const sendStatements = sqsStatements.filter((statement) =>
      ([] as string[]).concat(statement.Action).includes('sqs:SendMessage'),
    );
    expect(sendStatements).toEqual([
      expect.objectContaining({
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^PubSubDeadLetterQueue/), 'Arn'] },
      }),
    ]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:ReceiveMessage', 'sqs:DeleteMessage']),
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubQueue'), 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('gives the writer role no permission beyond its own log group, the table and the queues', () => {
    // Act
    const template = synthConstruct();

    // Assess
    expect(writerActions(template).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    for (const statement of writerStatements(template, 'logs:')) {
      expect(statement.Resource).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^PubSubWriterLogGroup/), 'Arn'],
      });
    }
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      },
      ManagedPolicyArns: Match.absent(),
    });
  });

  it('grants publishing on the topic', () => {
    // Prepare
    const { stack, pubSub } = buildConstruct();
    const publisher = new iam.Role(stack, 'Publisher', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    });

    // Act
    pubSub.grantPublish(publisher);

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Publisher') }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sns:Publish',
            Effect: 'Allow',
            Resource: { Ref: Match.stringLikeRegexp('^PubSubTopic') },
          }),
        ],
      },
    });
  });

  it('applies non-default retention, architecture, batch size and receive count', () => {
    // Act
    const template = synthConstruct({
      retention: Duration.hours(2),
      architecture: lambda.Architecture.X86_64,
      writerBatchSize: 5,
      writerMemorySize: 512,
      maxReceiveCount: 3,
    });

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['x86_64'],
      MemorySize: 512,
      Environment: { Variables: Match.objectLike({ RETENTION_SECONDS: '7200' }) },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 5 });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
  });

  it('rejects a retention below one second', () => {
    // Act & Assess
    expect(() => synthConstruct({ retention: Duration.seconds(0) })).toThrow(/retention/);
  });
});

describe('Stack: SsePubSubStack', () => {
  it('nests the construct under the stable id PubSub and outputs the topic ARN, table name and stream URL', () => {
    // Act
    const stack = new SsePubSubStack(newApp(), 'SsePubSub');
    const template = Template.fromStack(stack);

    // Assess
    expect(stack.pubSub.node.id).toBe('PubSub');
    template.hasOutput('TopicArn', { Value: { Ref: Match.stringLikeRegexp('^PubSubTopic') } });
    template.hasOutput('TableName', { Value: { Ref: Match.stringLikeRegexp('^PubSubEventLog') } });
    template.hasOutput('StreamUrl', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubStreamFunctionUrl'), 'FunctionUrl'] },
    });
  });

  it('passes the construct props through', () => {
    // Act
    const stack = new SsePubSubStack(newApp(), 'SsePubSub', {
      pubSub: { streamAuthType: lambda.FunctionUrlAuthType.AWS_IAM },
    });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
  });
});
