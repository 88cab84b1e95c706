import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { DEADLINE_MARGIN_MS } from '../../functions/http/subscribe-config.js';
import { SsePubSubConfigError, type SsePubSubProps } from '../../lib/index.js';
import {
  actionsOf,
  buildConstruct,
  resourceProperties,
  roleActions,
  roleStatements,
  synthConstruct,
} from './template-helpers.js';

const TABLE_ARN = { 'Fn::GetAtt': [expect.stringMatching(/^PubSubEventLog/), 'Arn'] };
/** Any DynamoDB action that changes data. */
const DYNAMODB_WRITE =
  /^dynamodb:(Put|Update|Delete|BatchWrite|TransactWrite|PartiQL(Insert|Update|Delete))/;

function streamFunction(template: Template) {
  return resourceProperties(template, 'AWS::Lambda::Function', 'PubSubStream');
}

describe('Construct: SsePubSub', () => {
  describe('Stream function', () => {
    it('runs on Node.js 22, arm64, 128 MB, with a timeout of the stream lifetime plus 60 s', () => {
      // Act
      const template = synthConstruct();

      // Assess
      expect(streamFunction(template)).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 128,
        Timeout: 300 + 60,
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/^PubSubStreamLogGroup/) } },
        Role: { 'Fn::GetAtt': [expect.stringMatching(/^PubSubStreamRole/), 'Arn'] },
      });
    });

    it('outlives the stream by more than the deadline margin, within the 15-minute limit', () => {
      // Act
      const template = synthConstruct({ streamLifetime: Duration.minutes(14) });

      // Assess
      const timeoutMs = streamFunction(template).Timeout * 1000;
      expect(timeoutMs).toBeGreaterThan(14 * 60_000 + DEADLINE_MARGIN_MS);
      expect(timeoutMs).toBeLessThanOrEqual(15 * 60_000);
    });

    it('gets its default configuration from the environment, without CORS origins', () => {
      // Act
      const template = synthConstruct();

      // Assess
      expect(streamFunction(template).Environment.Variables).toEqual({
        TABLE_NAME: { Ref: expect.stringMatching(/^PubSubEventLog/) },
        RETENTION_SECONDS: '86400',
        STREAM_LIFETIME_SECONDS: '300',
        HEARTBEAT_SECONDS: '15',
        POLL_MIN_MS: '200',
        POLL_MAX_MS: '1000',
        PADDING_BYTES: '0',
        POWERTOOLS_SERVICE_NAME: 'sse-pubsub-stream',
        POWERTOOLS_METRICS_NAMESPACE: 'SsePubSub',
        NODE_OPTIONS: '--enable-source-maps',
      });
    });

    it('takes its configuration from the props', () => {
      // Act
      const template = synthConstruct({
        retention: Duration.hours(2),
        architecture: lambda.Architecture.X86_64,
        streamMemorySize: 256,
        streamLifetime: Duration.minutes(2),
        heartbeatInterval: Duration.seconds(20),
        pollInterval: { min: Duration.millis(100), max: Duration.seconds(5) },
        corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
        paddingBytes: 2048,
      });

      // Assess
      const fn = streamFunction(template);
      expect(fn).toMatchObject({ Architectures: ['x86_64'], MemorySize: 256, Timeout: 180 });
      expect(fn.Environment.Variables).toMatchObject({
        RETENTION_SECONDS: '7200',
        STREAM_LIFETIME_SECONDS: '120',
        HEARTBEAT_SECONDS: '20',
        POLL_MIN_MS: '100',
        POLL_MAX_MS: '5000',
        CORS_ORIGINS: 'https://app.example.com,http://localhost:5173',
        PADDING_BYTES: '2048',
      });
    });

    it('passes a lone * as any origin', () => {
      // Act
      const template = synthConstruct({ corsOrigins: ['*'] });

      // Assess
      expect(streamFunction(template).Environment.Variables.CORS_ORIGINS).toBe('*');
    });

    it('grants exactly GetItem and Query on the table, and nothing that writes or scans', () => {
      // Act
      const template = synthConstruct();

      // Assess
      const actions = roleActions(template, 'PubSubStreamRole');
      expect(actions.filter((action) => action.startsWith('dynamodb:')).sort()).toEqual([
        'dynamodb:GetItem',
        'dynamodb:Query',
      ]);
      expect(actions.filter((action) => DYNAMODB_WRITE.test(action))).toEqual([]);
      expect(actions).not.toContain('dynamodb:Scan');
      expect(actions.some((action) => action.includes('*'))).toBe(false);
      for (const statement of roleStatements(template, 'PubSubStreamRole')) {
        if (actionsOf(statement).some((action) => action.startsWith('dynamodb:'))) {
          expect(statement.Resource).toEqual(TABLE_ARN);
        }
      }
    });

    it('gives its role nothing beyond its own log group and reading the table', () => {
      // Act
      const template = synthConstruct();

      // Assess
      expect(roleActions(template, 'PubSubStreamRole').sort()).toEqual([
        'dynamodb:GetItem',
        'dynamodb:Query',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]);
      for (const statement of roleStatements(template, 'PubSubStreamRole')) {
        if (actionsOf(statement).some((action) => action.startsWith('logs:'))) {
          expect(statement.Resource).toEqual({
            'Fn::GetAtt': [expect.stringMatching(/^PubSubStreamLogGroup/), 'Arn'],
          });
        }
      }
      expect(resourceProperties(template, 'AWS::IAM::Role', 'PubSubStreamRole')).toMatchObject({
        AssumeRolePolicyDocument: {
          Statement: [expect.objectContaining({ Principal: { Service: 'lambda.amazonaws.com' } })],
        },
      });
      expect(
        resourceProperties(template, 'AWS::IAM::Role', 'PubSubStreamRole').ManagedPolicyArns,
      ).toBeUndefined();
    });

    it('keeps reads and writes apart: only the writer writes, only the stream queries', () => {
      // Act
      const template = synthConstruct();

      // Assess
      const writer = roleActions(template, 'PubSubWriterRole');
      const stream = roleActions(template, 'PubSubStreamRole');
      expect(writer).not.toContain('dynamodb:Query');
      expect(writer).not.toContain('dynamodb:Scan');
      expect(stream.filter((action) => DYNAMODB_WRITE.test(action))).toEqual([]);
      expect(stream).not.toContain('dynamodb:Scan');
    });

    it('retains its log group by default, with the shared log retention', () => {
      // Act
      const template = synthConstruct();

      // Assess
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: { RetentionInDays: 30 },
        DeletionPolicy: 'Retain',
      });
      template.resourceCountIs('AWS::Logs::LogGroup', 2);
    });
  });

  describe('Stream function URL', () => {
    it('streams responses, is public by default, and leaves CORS to the function', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct();

      // Act
      const template = Template.fromStack(stack);

      // Assess
      template.resourceCountIs('AWS::Lambda::Url', 1);
      template.hasResourceProperties('AWS::Lambda::Url', {
        AuthType: 'NONE',
        InvokeMode: 'RESPONSE_STREAM',
        TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubStream'), 'Arn'] },
        Cors: Match.absent(),
      });
      expect(pubSub.functionUrl?.authType).toBe(lambda.FunctionUrlAuthType.NONE);
      expect(stack.resolve(pubSub.streamUrl)).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^PubSubStreamFunctionUrl/), 'FunctionUrl'],
      });
    });

    it('lets anyone invoke a public URL, through the URL only', () => {
      // Act
      const template = synthConstruct();

      // Assess: since October 2025 a public URL needs both permissions.
      template.resourceCountIs('AWS::Lambda::Permission', 2);
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunctionUrl',
        FunctionUrlAuthType: 'NONE',
        Principal: '*',
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        InvokedViaFunctionUrl: true,
        Principal: '*',
      });
    });

    it('uses AWS_IAM when asked, with no public permission', () => {
      // Act
      const template = synthConstruct({ streamAuthType: lambda.FunctionUrlAuthType.AWS_IAM });

      // Assess
      template.hasResourceProperties('AWS::Lambda::Url', {
        AuthType: 'AWS_IAM',
        InvokeMode: 'RESPONSE_STREAM',
      });
      template.resourceCountIs('AWS::Lambda::Permission', 0);
    });

    it('grants invoking an AWS_IAM URL', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct({
        streamAuthType: lambda.FunctionUrlAuthType.AWS_IAM,
      });
      const caller = new iam.Role(stack, 'Caller', {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      });

      // Act
      pubSub.grantStreamInvoke(caller);

      // Assess
      expect(roleActions(Template.fromStack(stack), 'Caller').sort()).toEqual([
        'lambda:InvokeFunction',
        'lambda:InvokeFunctionUrl',
      ]);
    });
  });

  describe('Stream props validation', () => {
    it.each<[string, SsePubSubProps, RegExp]>([
      ['a heartbeat of 30 s', { heartbeatInterval: Duration.seconds(30) }, /heartbeatInterval/],
      ['a heartbeat above 30 s', { heartbeatInterval: Duration.minutes(1) }, /heartbeatInterval/],
      ['a heartbeat under 1 s', { heartbeatInterval: Duration.millis(500) }, /heartbeatInterval/],
      ['a lifetime of 15 minutes', { streamLifetime: Duration.minutes(15) }, /streamLifetime/],
      [
        'a lifetime 1 s over 14 minutes',
        { streamLifetime: Duration.seconds(841) },
        /streamLifetime/,
      ],
      ['a lifetime of 0', { streamLifetime: Duration.seconds(0) }, /streamLifetime/],
      ['a lifetime in part seconds', { streamLifetime: Duration.millis(90_500) }, /streamLifetime/],
      [
        'a poll minimum above the maximum',
        { pollInterval: { min: Duration.seconds(2), max: Duration.seconds(1) } },
        /pollInterval/,
      ],
      [
        'a poll minimum of 0',
        { pollInterval: { min: Duration.millis(0), max: Duration.seconds(1) } },
        /pollInterval/,
      ],
      ['1 byte of padding', { paddingBytes: 1 }, /paddingBytes/],
      ['negative padding', { paddingBytes: -2 }, /paddingBytes/],
      ['* among other origins', { corsOrigins: ['*', 'https://a.example'] }, /corsOrigins/],
      ['an origin with a path', { corsOrigins: ['https://a.example/app'] }, /corsOrigins/],
      [
        'two origins in one entry',
        { corsOrigins: ['https://a.example,https://b.example'] },
        /corsOrigins/,
      ],
    ])('rejects %s, naming the prop', (_name, props, message) => {
      // Act & Assess
      expect(() => synthConstruct(props)).toThrow(SsePubSubConfigError);
      expect(() => synthConstruct(props)).toThrow(message);
    });

    it('accepts the longest lifetime, 14 minutes, with a 15-minute timeout', () => {
      // Act
      const template = synthConstruct({ streamLifetime: Duration.minutes(14) });

      // Assess
      expect(streamFunction(template).Timeout).toBe(900);
    });

    it('accepts a heartbeat just under 30 s', () => {
      // Act
      const template = synthConstruct({ heartbeatInterval: Duration.seconds(29) });

      // Assess
      expect(streamFunction(template).Environment.Variables.HEARTBEAT_SECONDS).toBe('29');
    });
  });
});
