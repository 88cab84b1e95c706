import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { SsePubSubConfigError, type SsePubSubProps, TOKEN_SECRET_LENGTH } from '../../lib/index.js';
import {
  actionsOf,
  buildConstruct,
  type PropsInStack,
  resourceProperties,
  roleActions,
  roleStatements,
  synthConstruct,
} from './template-helpers.js';

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:orders';
const FIFO_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:orders.fifo';

function streamEnvironment(template: Template): Record<string, unknown> {
  return resourceProperties(template, 'AWS::Lambda::Function', 'PubSubStream').Environment
    .Variables;
}

function queues(template: Template) {
  const all = template.findResources('AWS::SQS::Queue');
  const byPrefix = (prefix: string) =>
    Object.entries(all).find(([id]) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id))?.[1]
      .Properties;
  return { queue: byPrefix('PubSubQueue'), deadLetterQueue: byPrefix('PubSubDeadLetterQueue') };
}

describe('Construct: SsePubSub', () => {
  describe('FIFO variant', () => {
    it('creates a FIFO topic without content-based deduplication, SSL-only', () => {
      // Act
      const template = synthConstruct({ fifo: true });

      // Assess
      template.resourceCountIs('AWS::SNS::Topic', 1);
      template.hasResourceProperties('AWS::SNS::Topic', {
        FifoTopic: true,
        ContentBasedDeduplication: false,
        FifoThroughputScope: 'MessageGroup',
        TopicName: Match.stringLikeRegexp('\\.fifo$'),
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('creates a FIFO queue (grouped per channel) redriving to a FIFO dead-letter queue', () => {
      // Act
      const template = synthConstruct({ fifo: true });

      // Assess
      const { queue, deadLetterQueue } = queues(template);
      expect(queue).toMatchObject({
        FifoQueue: true,
        ContentBasedDeduplication: false,
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: {
            'Fn::GetAtt': [expect.stringMatching(/^PubSubDeadLetterQueue/), 'Arn'],
          },
          maxReceiveCount: 5,
        },
      });
      expect(deadLetterQueue).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true });
      expect(deadLetterQueue?.RedrivePolicy).toBeUndefined();
    });

    it('gives the writer the FIFO dead-letter queue URL and keeps per-message batch failures', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct({ fifo: true });

      // Act
      const template = Template.fromStack(stack);

      // Assess
      expect(pubSub.fifo).toBe(true);
      expect(pubSub.deadLetterQueue.fifo).toBe(true);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            DEAD_LETTER_QUEUE_URL: { Ref: Match.stringLikeRegexp('^PubSubDeadLetterQueue') },
          }),
        },
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('keeps standard queues and topic by default', () => {
      // Act
      const template = synthConstruct();

      // Assess
      const { queue, deadLetterQueue } = queues(template);
      expect(queue?.FifoQueue).toBeUndefined();
      expect(deadLetterQueue?.FifoQueue).toBeUndefined();
      template.hasResourceProperties('AWS::SNS::Topic', { FifoTopic: Match.absent() });
    });
  });

  describe('Existing topic', () => {
    it('subscribes the queue to an imported topic and creates no topic', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct((scope) => ({
        topic: sns.Topic.fromTopicArn(scope, 'Existing', TOPIC_ARN),
      }));

      // Act
      const template = Template.fromStack(stack);

      // Assess
      template.resourceCountIs('AWS::SNS::Topic', 0);
      template.resourceCountIs('AWS::SNS::TopicPolicy', 0);
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'sqs',
        TopicArn: TOPIC_ARN,
        Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubQueue'), 'Arn'] },
      });
      // The queue policy lets the topic send.
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'sqs:SendMessage',
              Condition: { ArnEquals: { 'aws:SourceArn': TOPIC_ARN } },
            }),
          ]),
        },
      });
      expect(pubSub.topic.topicArn).toBe(TOPIC_ARN);
      expect(pubSub.fifo).toBe(false);
    });

    it('follows an imported FIFO topic: FIFO queues without being told', () => {
      // Act
      const { stack, pubSub } = buildConstruct((scope) => ({
        topic: sns.Topic.fromTopicArn(scope, 'Existing', FIFO_TOPIC_ARN),
      }));

      // Assess
      expect(pubSub.fifo).toBe(true);
      expect(queues(Template.fromStack(stack)).queue).toMatchObject({ FifoQueue: true });
    });

    it('grants publishing on the existing topic', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct((scope) => ({
        topic: sns.Topic.fromTopicArn(scope, 'Existing', TOPIC_ARN),
      }));
      const publisher = new iam.Role(stack, 'Publisher', {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      });

      // Act
      pubSub.grantPublish(publisher);

      // Assess
      expect(roleStatements(Template.fromStack(stack), 'Publisher')).toEqual([
        expect.objectContaining({ Action: 'sns:Publish', Resource: TOPIC_ARN }),
      ]);
    });

    it.each<[string, PropsInStack]>([
      [
        'fifo: true with a standard topic ARN',
        (scope) => ({ fifo: true, topic: sns.Topic.fromTopicArn(scope, 'T', TOPIC_ARN) }),
      ],
      [
        'fifo: false with a FIFO topic ARN',
        (scope) => ({ fifo: false, topic: sns.Topic.fromTopicArn(scope, 'T', FIFO_TOPIC_ARN) }),
      ],
      [
        'fifo: true with a standard topic of this app',
        (scope) => ({ fifo: true, topic: new sns.Topic(scope, 'T') }),
      ],
    ])('rejects %s', (_name, props) => {
      // Act & Assess
      expect(() => synthConstruct(props)).toThrow(SsePubSubConfigError);
      expect(() => synthConstruct(props)).toThrow(/fifo/);
    });

    it('trusts fifo: true for a topic imported by a token ARN, whose type CDK cannot see', () => {
      // Act
      const { stack, pubSub } = buildConstruct((scope) => ({
        fifo: true,
        topic: sns.Topic.fromTopicArn(
          scope,
          'T',
          new sns.Topic(scope, 'Elsewhere', { fifo: true }).topicArn.toString(),
        ),
      }));

      // Assess
      expect(pubSub.fifo).toBe(true);
      expect(queues(Template.fromStack(stack)).queue).toMatchObject({ FifoQueue: true });
    });

    it('warns when an existing FIFO topic deduplicates on content', () => {
      // Act
      const { stack } = buildConstruct((scope) => ({
        topic: new sns.Topic(scope, 'T', { fifo: true, contentBasedDeduplication: true }),
      }));

      // Assess
      Annotations.fromStack(stack).hasWarning(
        '/TestStack/PubSub',
        Match.stringLikeRegexp('deduplicates on content'),
      );
    });
  });

  describe('Access control', () => {
    it('generates a 64-character token secret and configures the stream function', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct({
        auth: { privateChannelPrefixes: ['private/', 'user:'] },
      });

      // Act
      const template = Template.fromStack(stack);

      // Assess
      template.resourceCountIs('AWS::SecretsManager::Secret', 1);
      template.hasResource('AWS::SecretsManager::Secret', {
        Properties: {
          GenerateSecretString: {
            PasswordLength: TOKEN_SECRET_LENGTH,
            ExcludePunctuation: true,
            IncludeSpace: false,
          },
        },
        DeletionPolicy: 'Retain',
      });
      expect(TOKEN_SECRET_LENGTH).toBe(64);
      const env = streamEnvironment(template);
      expect(env).toMatchObject({
        AUTH_PRIVATE_PREFIXES: 'private/,user:',
        AUTH_SECRET_ARN: { Ref: expect.stringMatching(/^PubSubTokenSecret/) },
      });
      for (const name of ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE']) {
        expect(env).not.toHaveProperty(name);
      }
      expect(pubSub.tokenSecret).toBeDefined();
    });

    it('lets the stream function get the secret value of that secret, and nothing else', () => {
      // Act
      const template = synthConstruct({ auth: { privateChannelPrefixes: ['private/'] } });

      // Assess
      const secretStatements = roleStatements(template, 'PubSubStreamRole').filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('secretsmanager:')),
      );
      expect(secretStatements).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: { Ref: expect.stringMatching(/^PubSubTokenSecret/) },
        }),
      ]);
      // The writer never sees the secret.
      expect(roleActions(template, 'PubSubWriterRole').join()).not.toContain('secretsmanager');
    });

    it('wires JWKS, issuer and audience, and makes no secret for JWKS-only auth', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct({
        auth: {
          privateChannelPrefixes: ['team/'],
          jwks: {
            url: 'https://id.example.com/.well-known/jwks.json',
            issuer: 'https://id.example.com/',
            audience: 'events-api',
          },
        },
      });

      // Act
      const template = Template.fromStack(stack);

      // Assess
      template.resourceCountIs('AWS::SecretsManager::Secret', 0);
      const env = streamEnvironment(template);
      expect(env).toMatchObject({
        AUTH_PRIVATE_PREFIXES: 'team/',
        AUTH_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
        AUTH_ISSUER: 'https://id.example.com/',
        AUTH_AUDIENCE: 'events-api',
      });
      expect(env).not.toHaveProperty('AUTH_SECRET_ARN');
      expect(roleActions(template, 'PubSubStreamRole').join()).not.toContain('secretsmanager');
      expect(pubSub.tokenSecret).toBeUndefined();
      expect(() =>
        pubSub.grantTokenSigning(
          new iam.Role(stack, 'Backend', { assumedBy: new iam.AnyPrincipal() }),
        ),
      ).toThrow(/token secret/);
    });

    it('uses a given secret (full ARN) with its audience, and creates none', () => {
      // Prepare
      const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sse-token-AbCdEf';

      // Act
      const template = synthConstruct((scope) => ({
        auth: {
          privateChannelPrefixes: ['private/'],
          secret: secretsmanager.Secret.fromSecretCompleteArn(scope, 'Given', arn),
          audience: 'my-app',
        },
      }));

      // Assess
      template.resourceCountIs('AWS::SecretsManager::Secret', 0);
      expect(streamEnvironment(template)).toMatchObject({
        AUTH_SECRET_ARN: arn,
        AUTH_AUDIENCE: 'my-app',
      });
      expect(roleStatements(template, 'PubSubStreamRole')).toContainEqual(
        expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: arn }),
      );
    });

    it('matches a secret known by name with the six-character suffix Secrets Manager adds', () => {
      // Act
      const template = synthConstruct((scope) => ({
        auth: {
          privateChannelPrefixes: ['private/'],
          secret: secretsmanager.Secret.fromSecretNameV2(scope, 'Given', 'sse-token'),
        },
      }));

      // Assess
      const statement = roleStatements(template, 'PubSubStreamRole').find((s) =>
        actionsOf(s).includes('secretsmanager:GetSecretValue'),
      );
      expect(JSON.stringify(statement?.Resource)).toMatch(/secret:sse-token-\?\?\?\?\?\?/);
    });

    it('lets the stream function decrypt a secret with a customer key, via Secrets Manager only', () => {
      // Act
      const template = synthConstruct((scope) => ({
        auth: {
          privateChannelPrefixes: ['private/'],
          secret: new secretsmanager.Secret(scope, 'Encrypted', {
            encryptionKey: new kms.Key(scope, 'Key'),
          }),
        },
      }));

      // Assess
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'kms:Decrypt',
              Principal: {
                AWS: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubStreamRole'), 'Arn'] },
              },
              Condition: {
                StringEquals: {
                  'kms:ViaService': {
                    'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
                  },
                },
              },
            }),
          ]),
        },
      });
    });

    it('grants token signing: reading the secret, for a backend service', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct({ auth: { privateChannelPrefixes: ['private/'] } });
      const backend = new iam.Role(stack, 'Backend', {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      });

      // Act
      pubSub.grantTokenSigning(backend);

      // Assess
      expect(roleStatements(Template.fromStack(stack), 'Backend')).toEqual([
        expect.objectContaining({
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: { Ref: expect.stringMatching(/^PubSubTokenSecret/) },
        }),
      ]);
    });

    it('refuses to grant token signing without auth', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct();

      // Act & Assess
      expect(() =>
        pubSub.grantTokenSigning(
          new iam.Role(stack, 'Backend', { assumedBy: new iam.AnyPrincipal() }),
        ),
      ).toThrow(SsePubSubConfigError);
    });

    it('leaves every channel public without auth: no AUTH_ variables, no secret', () => {
      // Act
      const template = synthConstruct();

      // Assess
      expect(Object.keys(streamEnvironment(template)).filter((k) => k.startsWith('AUTH_'))).toEqual(
        [],
      );
      template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    });

    it.each<[string, SsePubSubProps['auth'], RegExp]>([
      ['no private prefix', { privateChannelPrefixes: [] }, /privateChannelPrefixes/],
      ['a prefix with a comma', { privateChannelPrefixes: ['a,b'] }, /privateChannelPrefixes/],
      ['a prefix starting with /', { privateChannelPrefixes: ['/x'] }, /privateChannelPrefixes/],
      [
        'a JWKS URL that is not https',
        { privateChannelPrefixes: ['p/'], jwks: { url: 'http://id.example.com/jwks' } },
        /jwks\.url/,
      ],
      [
        'two different audiences',
        {
          privateChannelPrefixes: ['p/'],
          audience: 'a',
          jwks: { url: 'https://x/j', audience: 'b' },
        },
        /audience/,
      ],
      ['an empty audience', { privateChannelPrefixes: ['p/'], audience: ' ' }, /audience/],
    ])('rejects %s, naming the prop', (_name, auth, message) => {
      // Act & Assess
      expect(() => synthConstruct({ auth })).toThrow(SsePubSubConfigError);
      expect(() => synthConstruct({ auth })).toThrow(message);
    });
  });

  describe('CloudFront', () => {
    it('puts an uncached, streaming distribution in front of a public function URL', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct({ cloudFront: true });

      // Act
      const template = Template.fromStack(stack);

      // Assess
      template.resourceCountIs('AWS::CloudFront::Distribution', 1);
      template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 0);
      const config = resourceProperties(
        template,
        'AWS::CloudFront::Distribution',
        'PubSubDistribution',
      ).DistributionConfig;
      expect(config).toMatchObject({
        Enabled: true,
        HttpVersion: 'http2and3',
        PriceClass: 'PriceClass_All',
        DefaultCacheBehavior: {
          CachePolicyId: cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId,
          OriginRequestPolicyId:
            cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
          AllowedMethods: ['GET', 'HEAD', 'OPTIONS'],
          ViewerProtocolPolicy: 'https-only',
          Compress: false,
        },
      });
      expect(config.Origins).toHaveLength(1);
      expect(config.Origins[0]).toMatchObject({
        CustomOriginConfig: {
          OriginProtocolPolicy: 'https-only',
          OriginReadTimeout: 30,
          OriginSSLProtocols: ['TLSv1.2'],
        },
        DomainName: {
          'Fn::Select': [
            2,
            {
              'Fn::Split': [
                '/',
                {
                  'Fn::GetAtt': [expect.stringMatching(/^PubSubStreamFunctionUrl/), 'FunctionUrl'],
                },
              ],
            },
          ],
        },
      });
      expect(config.Origins[0].OriginAccessControlId).toBeUndefined();
      expect(pubSub.distribution).toBeDefined();
      expect(stack.resolve(pubSub.streamUrl)).toEqual({
        'Fn::Join': [
          '',
          [
            'https://',
            { 'Fn::GetAtt': [expect.stringMatching(/^PubSubDistribution/), 'DomainName'] },
            '/',
          ],
        ],
      });
    });

    it('keeps heartbeats well inside the origin read timeout', () => {
      // Act
      const template = synthConstruct({ cloudFront: true });

      // Assess
      const readTimeout = resourceProperties(
        template,
        'AWS::CloudFront::Distribution',
        'PubSubDistribution',
      ).DistributionConfig.Origins[0].CustomOriginConfig.OriginReadTimeout;
      const heartbeat = Number(streamEnvironment(template).HEARTBEAT_SECONDS);
      expect(heartbeat).toBeLessThan(readTimeout);
    });

    it('signs requests to an AWS_IAM function URL with Origin Access Control', () => {
      // Act
      const template = synthConstruct({
        cloudFront: true,
        streamAuthType: lambda.FunctionUrlAuthType.AWS_IAM,
      });

      // Assess
      template.hasResourceProperties('AWS::Lambda::Url', {
        AuthType: 'AWS_IAM',
        InvokeMode: 'RESPONSE_STREAM',
      });
      template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
      template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
        OriginAccessControlConfig: {
          OriginAccessControlOriginType: 'lambda',
          SigningBehavior: 'always',
          SigningProtocol: 'sigv4',
        },
      });
      const origin = resourceProperties(
        template,
        'AWS::CloudFront::Distribution',
        'PubSubDistribution',
      ).DistributionConfig.Origins[0];
      expect(origin.OriginAccessControlId).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/OriginAccessControl/), 'Id'],
      });
      // Only this distribution may invoke, through the URL; since October 2025 both actions.
      for (const action of ['lambda:InvokeFunctionUrl', 'lambda:InvokeFunction']) {
        template.hasResourceProperties('AWS::Lambda::Permission', {
          Action: action,
          Principal: 'cloudfront.amazonaws.com',
          SourceArn: {
            'Fn::Join': [
              '',
              Match.arrayWith([{ Ref: Match.stringLikeRegexp('^PubSubDistribution') }]),
            ],
          },
        });
      }
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission'));
      expect(permissions.map((p) => p.Properties.Principal)).not.toContain('*');
    });

    it('takes a price class, custom domain with certificate, web ACL and log bucket', () => {
      // Prepare
      const webAclId = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/sse/abc';

      // Act
      const { stack, pubSub } = buildConstruct((scope) => ({
        cloudFront: {
          priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
          domainNames: ['events.example.com'],
          certificate: acm.Certificate.fromCertificateArn(
            scope,
            'Cert',
            'arn:aws:acm:us-east-1:123456789012:certificate/abc',
          ),
          webAclId,
          logBucket: s3.Bucket.fromBucketName(scope, 'Logs', 'cf-logs-example'),
        },
      }));

      // Assess
      const config = resourceProperties(
        Template.fromStack(stack),
        'AWS::CloudFront::Distribution',
        'PubSubDistribution',
      ).DistributionConfig;
      expect(config).toMatchObject({
        PriceClass: 'PriceClass_100',
        Aliases: ['events.example.com'],
        ViewerCertificate: {
          AcmCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
          MinimumProtocolVersion: 'TLSv1.2_2021',
          SslSupportMethod: 'sni-only',
        },
        WebACLId: webAclId,
        Logging: { Bucket: expect.anything() },
      });
      expect(pubSub.streamUrl).toBe('https://events.example.com/');
    });

    it.each<[string, PropsInStack]>([
      ['domain names without a certificate', { cloudFront: { domainNames: ['e.example.com'] } }],
      [
        'a certificate without domain names',
        (scope) => ({
          cloudFront: {
            certificate: acm.Certificate.fromCertificateArn(
              scope,
              'C',
              'arn:aws:acm:us-east-1:123456789012:certificate/abc',
            ),
          },
        }),
      ],
    ])('rejects %s', (_name, props) => {
      // Act & Assess
      expect(() => synthConstruct(props)).toThrow(SsePubSubConfigError);
      expect(() => synthConstruct(props)).toThrow(/domainNames and cloudFront\.certificate/);
    });

    it('has no distribution by default, nor with cloudFront: false', () => {
      for (const props of [{}, { cloudFront: false }]) {
        // Act
        const { stack, pubSub } = buildConstruct(props);

        // Assess
        Template.fromStack(stack).resourceCountIs('AWS::CloudFront::Distribution', 0);
        expect(pubSub.distribution).toBeUndefined();
      }
    });
  });
});
