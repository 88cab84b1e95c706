import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { afterAll, describe, expect, it } from 'vitest';
import { DEADLINE_MARGIN_MS } from '../../functions/http/subscribe-config.js';
import {
  DEADLINE_MARGIN,
  SsePubSub,
  SsePubSubConfigError,
  type SsePubSubProps,
} from '../../lib/index.js';
import { SsePubSubStack } from '../../lib/sse-pub-sub-stack.js';
import {
  actionsOf,
  buildConstruct,
  newApp,
  resourceProperties,
  roleStatements,
  synthConstruct,
  webServerBundleDir,
} from './template-helpers.js';

const WEB: SsePubSubProps = { subscribeHost: 'webFunction' };
const TABLE_ARN = { 'Fn::GetAtt': [expect.stringMatching(/^PubSubEventLog/), 'Arn'] };
const ENDPOINT_DOMAIN = {
  'Fn::GetAtt': [expect.stringMatching(/^PubSubWebServerEndpoint/), 'DomainName'],
};
const PUBLIC_ENDPOINT_WARNING = Match.stringLikeRegexp('APPLICATION_MANAGED auth');

function revision(template: Template) {
  return resourceProperties(
    template,
    'AWS::Lambda::WebFunctionRevision',
    'PubSubWebServerRevision',
  );
}

function endpoint(template: Template) {
  return resourceProperties(
    template,
    'AWS::Lambda::WebFunctionEndpoint',
    'PubSubWebServerEndpoint',
  );
}

function distributionConfig(template: Template) {
  return resourceProperties(template, 'AWS::CloudFront::Distribution', 'PubSubDistribution')
    .DistributionConfig;
}

describe('Construct: SsePubSub with the Web Function host', () => {
  describe('Web Function', () => {
    it('runs the web server on Node.js 24 from index.mjs, with 128 streams per environment and a timeout of the lifetime plus 60 s', () => {
      // Act
      const template = synthConstruct(WEB);

      // Assess
      template.resourceCountIs('AWS::Lambda::WebFunction', 1);
      template.resourceCountIs('AWS::Lambda::WebFunctionRevision', 1);
      expect(revision(template)).toMatchObject({
        BuildConfig: { RuntimeConfig: { Runtime: 'nodejs24.x' } },
        FunctionName: { Ref: expect.stringMatching(/^PubSubWebServerFunction/) },
        ServiceConfig: {
          TimeoutSeconds: 300 + 60,
          MaxConcurrencyPerEnvironment: 128,
          ExecutionRoleArn: {
            'Fn::GetAtt': [expect.stringMatching(/^PubSubWebServerRole/), 'Arn'],
          },
          TelemetryConfig: {
            LoggingConfig: {
              LogGroup: { Ref: expect.stringMatching(/^PubSubWebServerLogGroup/) },
              ApplicationLogLevel: 'INFO',
            },
          },
        },
      });
      expect(revision(template).ServiceConfig.EnvironmentVariables).toMatchObject({
        AWS_LAMBDA_NODEJS_ENTRYPOINT: 'index.mjs',
        REQUEST_TIMEOUT_SECONDS: '360',
      });
    });

    it('gets exactly the stream function’s environment, plus REQUEST_TIMEOUT_SECONDS and the entry point', () => {
      // Prepare: settings that reach the environment (CORS, auth, stream timing).
      const shared: SsePubSubProps = {
        corsOrigins: ['https://app.example.com'],
        auth: { privateChannelPrefixes: ['private/'] },
        streamLifetime: Duration.minutes(2),
        paddingBytes: 2048,
        metricsChannelPrefixes: ['ops/', 'vip/'],
      };

      // Act
      const streamEnvironment = resourceProperties(
        synthConstruct(shared),
        'AWS::Lambda::Function',
        'PubSubStream',
      ).Environment.Variables;
      const webEnvironment = revision(synthConstruct({ ...shared, ...WEB })).ServiceConfig
        .EnvironmentVariables;

      // Assess
      const {
        REQUEST_TIMEOUT_SECONDS,
        AWS_LAMBDA_NODEJS_ENTRYPOINT,
        CHANGE_INDEX_SHARDS,
        ...rest
      } = webEnvironment;
      expect(rest).toEqual(streamEnvironment);
      expect(CHANGE_INDEX_SHARDS).toBe('1');
      expect(rest).toMatchObject({
        TABLE_NAME: { Ref: expect.stringMatching(/^PubSubEventLog/) },
        STREAM_LIFETIME_SECONDS: '120',
        CORS_ORIGINS: 'https://app.example.com',
        METRICS_CHANNEL_PREFIXES: 'ops/,vip/',
        POWERTOOLS_METRICS_NAMESPACE: 'SsePubSub',
        AUTH_SECRET_ARN: { Ref: expect.stringMatching(/^PubSubTokenSecret/) },
      });
      expect(REQUEST_TIMEOUT_SECONDS).toBe('180');
      expect(AWS_LAMBDA_NODEJS_ENTRYPOINT).toBe('index.mjs');
      expect(webEnvironment.MAX_CONNECTIONS).toBeUndefined();
    });

    it('uses the given timeout for the revision and for each request’s deadline', () => {
      // Act
      const template = synthConstruct({ ...WEB, webFunction: { timeout: Duration.minutes(10) } });

      // Assess
      expect(revision(template).ServiceConfig).toMatchObject({
        TimeoutSeconds: 600,
        EnvironmentVariables: { REQUEST_TIMEOUT_SECONDS: '600' },
      });
    });

    it('follows the stream lifetime with its default timeout, within the 15-minute limit', () => {
      // Act
      const template = synthConstruct({ ...WEB, streamLifetime: Duration.minutes(14) });

      // Assess
      const timeoutMs = revision(template).ServiceConfig.TimeoutSeconds * 1000;
      expect(timeoutMs).toBe(14 * 60_000 + 60_000);
      expect(timeoutMs).toBeGreaterThan(14 * 60_000 + DEADLINE_MARGIN_MS);
    });

    it('takes the per-environment concurrency', () => {
      // Act
      const template = synthConstruct({
        ...WEB,
        webFunction: { maxConcurrencyPerEnvironment: 16 },
      });

      // Assess
      expect(revision(template).ServiceConfig.MaxConcurrencyPerEnvironment).toBe(16);
    });

    it('keeps the margin a stream leaves before its deadline in step with the routes', () => {
      // Assess
      expect(DEADLINE_MARGIN.toMilliseconds()).toBe(DEADLINE_MARGIN_MS);
    });
  });

  describe('Change index', () => {
    it('has the writer record the change index that the web server reads, with the same shards', () => {
      const template = synthConstruct(WEB);
      const writer = resourceProperties(template, 'AWS::Lambda::Function', 'PubSubWriter');
      expect(writer.Environment.Variables.CHANGE_INDEX_SHARDS).toBe('1');
      expect(revision(template).ServiceConfig.EnvironmentVariables.CHANGE_INDEX_SHARDS).toBe('1');
    });

    it('leaves it off with the function URL host, whose streams poll their channels themselves', () => {
      const template = synthConstruct({});
      const writer = resourceProperties(template, 'AWS::Lambda::Function', 'PubSubWriter');
      const stream = resourceProperties(template, 'AWS::Lambda::Function', 'PubSubStream');
      expect(writer.Environment.Variables.CHANGE_INDEX_SHARDS).toBeUndefined();
      expect(stream.Environment.Variables.CHANGE_INDEX_SHARDS).toBeUndefined();
    });
  });

  describe('Endpoint', () => {
    it('is public (the server checks tokens) with no environment cap by default, and acknowledges the public-endpoint warning', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct(WEB);

      // Act
      const template = Template.fromStack(stack);

      // Assess
      template.resourceCountIs('AWS::Lambda::WebFunctionEndpoint', 1);
      expect(endpoint(template)).toMatchObject({
        AuthType: 'ApplicationManaged',
        EndpointType: 'HomeRegion',
        FunctionName: {
          'Fn::GetAtt': [expect.stringMatching(/^PubSubWebServerFunction/), 'FunctionArn'],
        },
      });
      expect(endpoint(template).ScalingConfig).toBeUndefined();
      expect(pubSub.webFunction?.endpoint.authType).toBe(
        lambda.WebFunctionAuthType.APPLICATION_MANAGED,
      );
      Annotations.fromStack(stack).hasNoWarning('*', PUBLIC_ENDPOINT_WARNING);
    });

    it('raises the public-endpoint warning when nobody acknowledges it (the check above can see it)', () => {
      // Prepare: a bare Web Function with a public endpoint beside the construct.
      const stack = new Stack(newApp(), 'Bare');
      new lambda.WebFunction(stack, 'Bare', {
        code: lambda.WebFunctionCode.fromAssetToManagedBucket(
          fileURLToPath(new URL('.', import.meta.url)),
        ),
        runtime: lambda.WebFunctionRuntime.NODEJS_24_X,
        defaultEndpointAuth: lambda.WebFunctionAuthType.APPLICATION_MANAGED,
      });

      // Act & Assess
      Annotations.fromStack(stack).hasWarning('*', PUBLIC_ENDPOINT_WARNING);
    });

    it('takes IAM auth and an environment cap', () => {
      // Act
      const template = synthConstruct({
        ...WEB,
        webFunction: { endpointAuth: lambda.WebFunctionAuthType.IAM_AUTH, maxEnvironments: 4 },
      });

      // Assess
      expect(endpoint(template)).toMatchObject({
        AuthType: 'IamAuth',
        ScalingConfig: { MaxEnvironments: 4 },
      });
    });

    it('grants invoking an IAM_AUTH endpoint with grantStreamInvoke', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct({
        ...WEB,
        webFunction: { endpointAuth: lambda.WebFunctionAuthType.IAM_AUTH },
      });
      const caller = new iam.Role(stack, 'Caller', {
        assumedBy: new iam.AccountRootPrincipal(),
      });

      // Act
      pubSub.grantStreamInvoke(caller);

      // Assess
      expect(roleStatements(Template.fromStack(stack), 'Caller')).toEqual([
        {
          Action: 'lambda:InvokeWebFunctionEndpoint',
          Effect: 'Allow',
          Resource: {
            'Fn::GetAtt': [expect.stringMatching(/^PubSubWebServerEndpoint/), 'EndpointArn'],
          },
        },
      ]);
    });
  });

  describe('Role', () => {
    it('trusts the Lambda service, as the WebFunction default role does', () => {
      // Act
      const role = resourceProperties(synthConstruct(WEB), 'AWS::IAM::Role', 'PubSubWebServerRole');

      // Assess
      expect(role.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
        },
      ]);
      expect(role.ManagedPolicyArns).toBeUndefined();
    });

    it('reads the event log (GetItem, Query, BatchGetItem for the safety sweep) and writes its own log group, nothing else', () => {
      // Act
      const statements = roleStatements(synthConstruct(WEB), 'PubSubWebServerRole');

      // Assess
      expect(statements).toEqual([
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Effect: 'Allow',
          Resource: {
            'Fn::GetAtt': [expect.stringMatching(/^PubSubWebServerLogGroup/), 'Arn'],
          },
        },
        {
          Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
          Effect: 'Allow',
          Resource: TABLE_ARN,
        },
      ]);
    });

    it('gets the token secret value too with auth, and nothing more', () => {
      // Act
      const statements = roleStatements(
        synthConstruct({ ...WEB, auth: { privateChannelPrefixes: ['private/'] } }),
        'PubSubWebServerRole',
      );

      // Assess
      expect(statements.flatMap(actionsOf).sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:GetSecretValue',
      ]);
      expect(
        statements.find((s) => actionsOf(s).includes('secretsmanager:GetSecretValue')),
      ).toEqual({
        Action: 'secretsmanager:GetSecretValue',
        Effect: 'Allow',
        Resource: { Ref: expect.stringMatching(/^PubSubTokenSecret/) },
      });
    });

    it('decrypts a secret with a customer key through Secrets Manager only', () => {
      // Act
      const template = synthConstruct((stack) => ({
        ...WEB,
        auth: {
          privateChannelPrefixes: ['private/'],
          secret: new secretsmanager.Secret(stack, 'Own', {
            encryptionKey: new kms.Key(stack, 'Key'),
          }),
        },
      }));

      // Assess
      const key = Object.values(template.findResources('AWS::KMS::Key'))[0];
      const grant = key?.Properties.KeyPolicy.Statement.find(
        (statement: { Principal?: { AWS?: unknown } }) =>
          JSON.stringify(statement.Principal?.AWS ?? '').includes('PubSubWebServerRole'),
      );
      expect(grant).toMatchObject({
        Action: 'kms:Decrypt',
        Condition: {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
            },
          },
        },
      });
    });
  });

  describe('Replaces the stream function', () => {
    it('makes no stream function and no function URL, and exposes the Web Function instead', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct(WEB);

      // Act
      const template = Template.fromStack(stack);

      // Assess
      template.resourceCountIs('AWS::Lambda::Url', 0);
      const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
      expect(functions.filter((id) => id.startsWith('PubSub'))).toEqual([
        expect.stringMatching(/^PubSubWriter/),
      ]);
      expect(Object.keys(template.findResources('AWS::Logs::LogGroup'))).not.toContainEqual(
        expect.stringMatching(/^PubSubStreamLogGroup/),
      );
      expect(pubSub.streamFunction).toBeUndefined();
      expect(pubSub.functionUrl).toBeUndefined();
      expect(pubSub.webFunction).toBeInstanceOf(lambda.WebFunction);
    });

    it('serves subscribers at the endpoint: streamUrl is https://<endpoint domain>/', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct(WEB);

      // Act & Assess
      expect(stack.resolve(pubSub.streamUrl)).toEqual({
        'Fn::Join': ['', ['https://', ENDPOINT_DOMAIN, '/']],
      });
    });

    it('drops the stream-function alarms and dashboard widgets, keeps the rest and the routes’ own', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct(WEB);

      // Act
      const template = Template.fromStack(stack);

      // Assess
      template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
      expect(Object.keys(pubSub.alarms).sort()).toEqual([
        'deadLetterQueueDepth',
        'deliveryLag',
        'messagesRejected',
        'queueAge',
        'tableThrottles',
        'writerErrors',
        'writerThrottles',
      ]);
      const body = JSON.stringify(
        stack.resolve(
          Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties
            .DashboardBody,
        ),
      );
      // The function's invocation and duration widgets are gone; the routes' metrics stay.
      expect(body).not.toContain('Streams: invocations and concurrency');
      expect(body).not.toContain('Streams: duration (ms)');
      expect(body).toContain('Streams: delivery lag (ms)');
      expect(body).toContain('DynamoDB: consumed capacity and throttles');
    });
  });

  describe('CloudFront', () => {
    it('puts the same uncached, streaming distribution in front of a public endpoint, unsigned', () => {
      // Prepare
      const { stack, pubSub } = buildConstruct({ ...WEB, cloudFront: true });

      // Act
      const template = Template.fromStack(stack);

      // Assess
      template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 0);
      template.resourceCountIs('AWS::Lambda::ResourcePolicy', 0);
      const config = distributionConfig(template);
      expect(config).toMatchObject({
        HttpVersion: 'http2and3',
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
        DomainName: ENDPOINT_DOMAIN,
        CustomOriginConfig: { OriginProtocolPolicy: 'https-only', OriginReadTimeout: 30 },
      });
      expect(config.Origins[0].OriginAccessControlId).toBeUndefined();
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

    it('signs requests to an IAM_AUTH endpoint through Origin Access Control, which only this distribution may use', () => {
      // Act
      const template = synthConstruct({
        ...WEB,
        cloudFront: true,
        webFunction: { endpointAuth: lambda.WebFunctionAuthType.IAM_AUTH },
      });

      // Assess
      template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
      template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
        OriginAccessControlConfig: {
          OriginAccessControlOriginType: 'lambda',
          SigningBehavior: 'always-amz-auth',
          SigningProtocol: 'sigv4',
        },
      });
      expect(distributionConfig(template).Origins[0]).toMatchObject({
        DomainName: ENDPOINT_DOMAIN,
        OriginAccessControlId: {
          'Fn::GetAtt': [expect.stringMatching(/WebFunctionOriginAccess/), 'Id'],
        },
      });
      template.resourceCountIs('AWS::Lambda::ResourcePolicy', 1);
      template.hasResourceProperties('AWS::Lambda::ResourcePolicy', {
        ResourceArn: {
          'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubWebServerFunction'), 'FunctionArn'],
        },
        PolicyDocument: {
          Statement: [
            {
              Action: 'lambda:InvokeWebFunctionEndpoint',
              Effect: 'Allow',
              Principal: { Service: 'cloudfront.amazonaws.com' },
              Resource: {
                'Fn::GetAtt': [Match.stringLikeRegexp('^PubSubWebServerEndpoint'), 'EndpointArn'],
              },
              Condition: {
                ArnLike: {
                  'aws:SourceArn': {
                    'Fn::Join': [
                      '',
                      Match.arrayWith([{ Ref: Match.stringLikeRegexp('^PubSubDistribution') }]),
                    ],
                  },
                },
              },
              Sid: Match.anyValue(),
            },
          ],
        },
      });
    });
  });

  describe('Stack outputs', () => {
    it('outputs the endpoint as StreamUrl without CloudFront, and no FunctionUrl', () => {
      // Act
      const template = Template.fromStack(
        new SsePubSubStack(newApp(), 'SsePubSub', { pubSub: WEB }),
      );

      // Assess
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
      expect(template.findOutputs('FunctionUrl')).toEqual({});
    });

    it('outputs the distribution as StreamUrl with CloudFront, and the endpoint behind it as FunctionUrl', () => {
      // Act
      const template = Template.fromStack(
        new SsePubSubStack(newApp(), 'SsePubSub', { pubSub: { ...WEB, cloudFront: true } }),
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
  });

  describe('Code', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'sse-pubsub-web-'));
    afterAll(() => rmSync(outdir, { recursive: true, force: true }));

    it('bundles the web server at synth (local esbuild, ESM, index.mjs) into the asset the revision’s code is copied from', () => {
      // Prepare: bundling on, unlike the other tests.
      const app = new App({ outdir });
      const stack = new Stack(app, 'Bundled');
      new SsePubSub(stack, 'PubSub', WEB);

      // Act
      const assembly = app.synth();
      const template = Template.fromStack(stack);
      const dir = webServerBundleDir(assembly.directory, 'Bundled', template);

      // Assess
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
      // The server's own code: it listens where Lambda tells it to.
      expect(code).toContain('AWS_LAMBDA_HTTP_ENDPOINT');
      expect(code).toContain('REQUEST_TIMEOUT_SECONDS');
      expect(code).toMatch(/^import /m);
      expect(code).not.toContain('exports.handler');
    });
  });

  describe('Validation', () => {
    it.each<[string, SsePubSubProps, RegExp]>([
      [
        'webFunction without the webFunction host',
        { webFunction: { maxEnvironments: 2 } },
        /webFunction is set but subscribeHost is 'functionUrl'/,
      ],
      [
        'webFunction with the function URL host',
        { subscribeHost: 'functionUrl', webFunction: {} },
        /webFunction is set but subscribeHost is 'functionUrl'/,
      ],
      [
        'an unknown host',
        { subscribeHost: 'container' as never },
        /subscribeHost must be 'functionUrl' or 'webFunction', got "container"/,
      ],
      ['maxStreams', { ...WEB, maxStreams: 50 }, /maxStreams configures the stream function.*50/],
      [
        'streamMemorySize',
        { ...WEB, streamMemorySize: 256 },
        /streamMemorySize configures the stream function.*256/,
      ],
      [
        'streamAuthType',
        { ...WEB, streamAuthType: lambda.FunctionUrlAuthType.AWS_IAM },
        /streamAuthType configures the stream function.*AWS_IAM/,
      ],
      [
        'no concurrency',
        { ...WEB, webFunction: { maxConcurrencyPerEnvironment: 0 } },
        /webFunction\.maxConcurrencyPerEnvironment must be an integer from 1 to 128, got 0/,
      ],
      [
        'too much concurrency',
        { ...WEB, webFunction: { maxConcurrencyPerEnvironment: 129 } },
        /webFunction\.maxConcurrencyPerEnvironment .* got 129/,
      ],
      [
        'fractional concurrency',
        { ...WEB, webFunction: { maxConcurrencyPerEnvironment: 1.5 } },
        /webFunction\.maxConcurrencyPerEnvironment .* got 1\.5/,
      ],
      [
        'one environment',
        { ...WEB, webFunction: { maxEnvironments: 1 } },
        /webFunction\.maxEnvironments must be an integer of at least 2, got 1/,
      ],
      [
        'fractional environments',
        { ...WEB, webFunction: { maxEnvironments: 2.5 } },
        /webFunction\.maxEnvironments .* got 2\.5/,
      ],
      [
        'a timeout over 900 s',
        { ...WEB, webFunction: { timeout: Duration.seconds(901) } },
        /webFunction\.timeout must be from 3 seconds to 15 minutes, got 15 minutes 1 second/,
      ],
      [
        'a timeout under 3 s',
        {
          ...WEB,
          streamLifetime: Duration.seconds(1),
          webFunction: { timeout: Duration.seconds(2) },
        },
        /webFunction\.timeout must be from 3 seconds/,
      ],
      [
        'a fractional timeout',
        { ...WEB, webFunction: { timeout: Duration.millis(400_500) } },
        /webFunction\.timeout must be whole seconds, got 400\.5 seconds/,
      ],
      [
        'a timeout of the lifetime plus the deadline margin',
        { ...WEB, webFunction: { timeout: Duration.seconds(300 + 10) } },
        /webFunction\.timeout must be more than streamLifetime plus 10 seconds .*got 5 minutes 10 seconds/,
      ],
      [
        'a timeout below the lifetime',
        {
          ...WEB,
          streamLifetime: Duration.minutes(10),
          webFunction: { timeout: Duration.minutes(5) },
        },
        /webFunction\.timeout must be more than streamLifetime plus 10 seconds \(10 minutes 10 seconds\)/,
      ],
      [
        'an unknown endpoint auth type',
        { ...WEB, webFunction: { endpointAuth: 'NONE' as never } },
        /webFunction\.endpointAuth must be a lambda\.WebFunctionAuthType, got "NONE"/,
      ],
    ])('rejects %s, naming the prop', (_name, props, message) => {
      // Act & Assess
      expect(() => buildConstruct(props)).toThrow(SsePubSubConfigError);
      expect(() => buildConstruct(props)).toThrow(message);
    });

    it('accepts the bounds: 1 and 128 per environment, 2 environments, the lifetime plus the margin plus 1 s', () => {
      // Act & Assess
      for (const webFunction of [
        { maxConcurrencyPerEnvironment: 1, maxEnvironments: 2 },
        { maxConcurrencyPerEnvironment: 128 },
        { timeout: Duration.seconds(300 + 10 + 1) },
        { timeout: Duration.seconds(900) },
      ]) {
        expect(() => buildConstruct({ ...WEB, webFunction })).not.toThrow();
      }
    });

    it('accepts function-host props with the function URL host', () => {
      // Act & Assess
      expect(() =>
        buildConstruct({ subscribeHost: 'functionUrl', maxStreams: 10, streamMemorySize: 256 }),
      ).not.toThrow();
    });
  });
});
