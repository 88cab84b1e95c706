import { Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { SsePubSub, type SsePubSubProps } from '../../lib/index.js';
import { SsePubSubStack } from '../../lib/sse-pub-sub-stack.js';
import { newApp } from './template-helpers.js';

/**
 * cdk-nag 3 is a policy validation plugin: `app.synth()` runs it after synthesis and
 * throws when it reports anything not acknowledged, as `cdk synth` exits 1. Its
 * `validateScope` returns the same report as data, for readable failures.
 */
function checkedApp(props?: SsePubSubProps, alarmEmails?: string[]) {
  const app = newApp();
  const stack = new SsePubSubStack(app, 'SsePubSub', {
    pubSub: props,
    ...(alarmEmails !== undefined && { alarmEmails }),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

/** Every option that adds resources or findings, at once. */
const FULL_VARIANT: SsePubSubProps = {
  fifo: true,
  streamAuthType: lambda.FunctionUrlAuthType.AWS_IAM,
  cloudFront: true,
  auth: { privateChannelPrefixes: ['private/'] },
  corsOrigins: ['https://app.example.com'],
};

/** Every acknowledgement under `scope`: construct path, rule id and reason. */
function acknowledgements(scope: Stack) {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

function findings(scope: Stack | ReturnType<typeof newApp>) {
  return new AwsSolutionsChecks().validateScope(scope).violations.map((violation) => ({
    rule: violation.ruleName,
    resources: violation.violatingResources.map((resource) => resource.constructPath),
  }));
}

describe('Rules: AwsSolutions (cdk-nag)', () => {
  it.each<[string, SsePubSubProps | undefined]>([
    ['the defaults', undefined],
    [
      'an AWS_IAM URL, x86 and CORS origins',
      {
        streamAuthType: lambda.FunctionUrlAuthType.AWS_IAM,
        architecture: lambda.Architecture.X86_64,
        corsOrigins: ['https://app.example.com'],
      },
    ],
    ['the FIFO variant, private channels and CloudFront with OAC', FULL_VARIANT],
    [
      'CloudFront in front of a public URL, JWKS-only auth',
      {
        cloudFront: { priceClass: cloudfront.PriceClass.PRICE_CLASS_100 },
        auth: { privateChannelPrefixes: ['team/'], jwks: { url: 'https://id.example.com/jwks' } },
      },
    ],
    ['the Web Function host', { subscribeHost: 'webFunction' }],
    [
      'the Web Function host with private channels and CloudFront',
      {
        subscribeHost: 'webFunction',
        auth: { privateChannelPrefixes: ['private/'] },
        cloudFront: true,
      },
    ],
    [
      'an IAM_AUTH Web Function behind CloudFront with OAC, FIFO and private channels',
      {
        subscribeHost: 'webFunction',
        webFunction: { endpointAuth: lambda.WebFunctionAuthType.IAM_AUTH, maxEnvironments: 4 },
        fifo: true,
        auth: { privateChannelPrefixes: ['private/'] },
        cloudFront: true,
      },
    ],
  ])('finds nothing unacknowledged in the stack with %s', (_name, props) => {
    // Prepare
    const { app } = checkedApp(props, ['ops@example.com']);

    // Act & Assess
    expect(findings(app)).toEqual([]);
    expect(() => app.synth()).not.toThrow();
  });

  it('acknowledges only the pinned runtime, on the two functions, with a reason', () => {
    // Prepare
    const { stack } = checkedApp();

    // Act
    const acknowledged = acknowledgements(stack);

    // Assess
    expect(acknowledged.map(({ path, id }) => `${path} ${id}`).sort()).toEqual([
      'SsePubSub/PubSub/Stream AwsSolutions-L1',
      'SsePubSub/PubSub/Writer AwsSolutions-L1',
    ]);
    for (const { reason } of acknowledged) expect(reason).toMatch(/nodejs22\.x.*by design/);
  });

  it('acknowledges, in the full variant, the secret rotation and CloudFront rules, each with its own reason', () => {
    // Prepare
    const { stack } = checkedApp(FULL_VARIANT);

    // Act
    const acknowledged = acknowledgements(stack);

    // Assess
    expect(acknowledged.map(({ path, id }) => `${path} ${id}`).sort()).toEqual([
      'SsePubSub/PubSub/Distribution AwsSolutions-CFR1',
      'SsePubSub/PubSub/Distribution AwsSolutions-CFR2',
      'SsePubSub/PubSub/Distribution AwsSolutions-CFR3',
      'SsePubSub/PubSub/Distribution AwsSolutions-CFR4',
      'SsePubSub/PubSub/Stream AwsSolutions-L1',
      'SsePubSub/PubSub/TokenSecret AwsSolutions-SMG4',
      'SsePubSub/PubSub/Writer AwsSolutions-L1',
    ]);
    const reasons = Object.fromEntries(acknowledged.map(({ id, reason }) => [id, reason]));
    expect(reasons['AwsSolutions-SMG4']).toMatch(/invalidate every outstanding token/);
    expect(reasons['AwsSolutions-CFR1']).toMatch(/tokens, not by country/);
    expect(reasons['AwsSolutions-CFR2']).toMatch(/cloudFront\.webAclId/);
    expect(reasons['AwsSolutions-CFR3']).toMatch(/cloudFront\.logBucket/);
    expect(reasons['AwsSolutions-CFR4']).toMatch(/certificate/);
    expect(new Set(acknowledged.map(({ reason }) => reason)).size).toBe(6);
  });

  it('acknowledges, for the Web Function host, the code bucket, the code copy’s grants and the public endpoint, each with its reason, and the writer’s runtime', () => {
    // Prepare
    const { stack } = checkedApp({ subscribeHost: 'webFunction' });

    // Act
    const acknowledged = acknowledgements(stack);

    // Assess
    expect(acknowledged.map(({ path, id }) => `${path} ${id}`).sort()).toEqual([
      'SsePubSub/AWSCDKWebFunctionAssetBucket AwsSolutions-S1',
      'SsePubSub/PubSub/WebServer/Endpoint @aws-cdk/aws-lambda:webFunctionPublicEndpoint',
      'SsePubSub/PubSub/WebServerCodeCopyRole AwsSolutions-IAM5[Action::s3:Abort*]',
      'SsePubSub/PubSub/WebServerCodeCopyRole AwsSolutions-IAM5[Action::s3:DeleteObject*]',
      'SsePubSub/PubSub/WebServerCodeCopyRole AwsSolutions-IAM5[Resource::<AWSCDKWebFunctionAssetBucket5B596593.Arn>/web-function/*]',
      'SsePubSub/PubSub/WebServerCodeCopyRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
      'SsePubSub/PubSub/Writer AwsSolutions-L1',
    ]);
    const reason = (id: string) => acknowledged.find((each) => each.id === id)?.reason;
    expect(reason('AwsSolutions-S1')).toMatch(/only deployment packages/);
    expect(reason('AwsSolutions-IAM5[Action::s3:Abort*]')).toMatch(/own key prefix/);
    expect(
      reason(
        'AwsSolutions-IAM5[Resource::<AWSCDKWebFunctionAssetBucket5B596593.Arn>/web-function/*]',
      ),
    ).toMatch(/web-function\/ prefix/);
    expect(
      reason(
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
      ),
    ).toMatch(/bootstrap asset bucket/);
  });

  it('acknowledges the public-endpoint warning, with its reason, only for an application-managed endpoint', () => {
    // Prepare
    const { stack: publicEndpoint } = checkedApp({ subscribeHost: 'webFunction' });
    const { stack: iamEndpoint } = checkedApp({
      subscribeHost: 'webFunction',
      webFunction: { endpointAuth: lambda.WebFunctionAuthType.IAM_AUTH },
    });
    const acknowledgedWarnings = (stack: Stack) =>
      acknowledgements(stack).filter(({ id }) => id.includes('webFunctionPublicEndpoint'));

    // Act & Assess
    expect(acknowledgedWarnings(publicEndpoint)).toEqual([
      {
        path: 'SsePubSub/PubSub/WebServer/Endpoint',
        id: '@aws-cdk/aws-lambda:webFunctionPublicEndpoint',
        reason: 'the server checks subscriber tokens itself',
      },
    ]);
    expect(acknowledgedWarnings(iamEndpoint)).toEqual([]);
  });

  it('acknowledges no CloudFront rule that the given web ACL, log bucket and certificate satisfy', () => {
    // Prepare
    const app = newApp();
    const stack = new Stack(app, 'Custom');
    new SsePubSub(stack, 'PubSub', {
      cloudFront: {
        webAclId: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/sse/abc',
        logBucket: s3.Bucket.fromBucketName(stack, 'Logs', 'cf-logs-example'),
        domainNames: ['events.example.com'],
        certificate: acm.Certificate.fromCertificateArn(
          stack,
          'Cert',
          'arn:aws:acm:us-east-1:123456789012:certificate/abc',
        ),
      },
    });

    // Act
    const acknowledged = acknowledgements(stack).map(({ id }) => id);

    // Assess
    expect(acknowledged.filter((id) => id.startsWith('AwsSolutions-CFR'))).toEqual([
      'AwsSolutions-CFR1',
    ]);
    expect(findings(app)).toEqual([]);
  });

  it('does not acknowledge rotation of a secret the construct was given', () => {
    // Prepare
    const app = newApp();
    const stack = new Stack(app, 'Given');
    const secret = new secretsmanager.Secret(stack, 'OwnSecret');
    new SsePubSub(stack, 'PubSub', { auth: { privateChannelPrefixes: ['p/'], secret } });

    // Act & Assess: the owner's secret is the owner's finding.
    expect(acknowledgements(stack).map(({ id }) => id)).not.toContain('AwsSolutions-SMG4');
    expect(findings(app)).toEqual([
      { rule: 'AwsSolutions-SMG4', resources: ['Given/OwnSecret/Resource'] },
    ]);
  });

  it('reports a finding that nobody acknowledged, and fails synthesis', () => {
    // Prepare: a queue with no dead-letter queue and no SSL-only policy.
    const { app, stack } = checkedApp();
    new sqs.Queue(stack, 'Unchecked', { encryption: sqs.QueueEncryption.SQS_MANAGED });

    // Act & Assess
    expect(findings(app)).toEqual(
      expect.arrayContaining([
        { rule: 'AwsSolutions-SQS3', resources: ['SsePubSub/Unchecked/Resource'] },
        { rule: 'AwsSolutions-SQS4', resources: ['SsePubSub/Unchecked/Resource'] },
      ]),
    );
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });
});
