/**
 * Acknowledges the cdk-nag (`AwsSolutions`) findings that `SsePubSub` raises by design,
 * each with its reason.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { SsePubSubProps } from './props.js';
import type { SsePubSubCloudFrontProps } from './stream-distribution.js';

/** The constructs of an `SsePubSub` that findings are acknowledged on. */
export interface AcknowledgedConstructs {
  readonly writer: lambda.Function;
  readonly streamFunction?: lambda.Function;
  readonly webFunction?: lambda.WebFunction;
  readonly webFunctionCodeCopyRole?: iam.Role;
  readonly tokenSecret?: secretsmanager.ISecret;
  readonly distribution?: cloudfront.Distribution;
}

/**
 * Rule findings (cdk-nag `AwsSolutions`) that are deliberate in this design, each
 * acknowledged on the construct it concerns, with its reason. Acknowledgments are
 * construct metadata from aws-cdk-lib itself: apps without cdk-nag ignore them.
 */
export function acknowledgeRuleFindings(
  pubSub: AcknowledgedConstructs,
  props: SsePubSubProps,
  cloudFront: SsePubSubCloudFrontProps | undefined,
): void {
  for (const fn of [pubSub.writer, pubSub.streamFunction]) {
    if (fn === undefined) continue;
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The runtime is pinned to nodejs22.x by design: the bundle targets node22 and the ' +
        'handlers are tested on Node 22. nodejs22.x is a supported Lambda runtime; moving ' +
        'to a newer one is a deliberate upgrade of runtime, bundle target and tests together.',
    });
  }

  // Only a secret this construct generated: a given one is its owner's to rotate.
  if (pubSub.tokenSecret !== undefined && props.auth?.secret === undefined) {
    Validations.of(pubSub.tokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The token secret is the HS256 key that backend services sign subscriber tokens with ' +
        'and the stream function verifies them with. Scheduled rotation would invalidate every ' +
        'outstanding token at an arbitrary moment while running stream instances keep the old ' +
        'key until they are recycled, so it is rotated by hand instead (docs/deploy.md, ' +
        '"Rotating the token secret"); tokens are short-lived and clients fetch new ones.',
    });
  }

  if (pubSub.webFunction !== undefined) {
    acknowledgeWebFunction(pubSub.webFunction, pubSub.webFunctionCodeCopyRole);
  }

  const distribution = pubSub.distribution;
  if (distribution === undefined || cloudFront === undefined) return;
  const acknowledge = (id: string, reason: string) =>
    Validations.of(distribution).acknowledge({ id, reason });
  acknowledge(
    'AwsSolutions-CFR1',
    'Subscribers are the users of the app, wherever they are: who may read a channel is decided ' +
      'per request by the private-channel prefixes and signed tokens, not by country. Geo ' +
      'restriction can be added on `distribution` where a deployment needs it.',
  );
  if (cloudFront.webAclId === undefined) {
    acknowledge(
      'AwsSolutions-CFR2',
      'No web ACL was given (cloudFront.webAclId). The stream function validates every ' +
        'parameter, header and token itself and answers bad input with a 4xx before reading ' +
        'the event log; a WAF web ACL (made in us-east-1, billed per ACL and per request) is ' +
        'opt-in through cloudFront.webAclId.',
    );
  }
  if (cloudFront.logBucket === undefined) {
    acknowledge(
      'AwsSolutions-CFR3',
      'No log bucket was given (cloudFront.logBucket). The stream function logs every request ' +
        '(path, channels, status) as JSON in CloudWatch Logs, without tokens; CloudFront ' +
        'standard logs would store `?token=` query strings in S3 and need an ACL-enabled ' +
        'bucket, so they are opt-in through cloudFront.logBucket.',
    );
  }
  if (cloudFront.certificate === undefined) {
    acknowledge(
      'AwsSolutions-CFR4',
      'No custom domain was given (cloudFront.domainNames and certificate): the default ' +
        '*.cloudfront.net certificate cannot enforce a minimum viewer TLS version, so the ' +
        'rule reads it as TLSv1. With a certificate the distribution requires TLSv1.2_2021.',
    );
  }
}

/** The warning aws-cdk-lib adds to an `APPLICATION_MANAGED` (public) Web Function endpoint. */
export const PUBLIC_ENDPOINT_WARNING = '@aws-cdk/aws-lambda:webFunctionPublicEndpoint';
/** The construct id of the code bucket `WebFunctionCode.fromAssetToManagedBucket` makes per stack. */
const MANAGED_CODE_BUCKET_ID = 'AWSCDKWebFunctionAssetBucket';

/**
 * The Web Function host: its public endpoint (when the server checks tokens), the
 * stack's managed code bucket and the role of the custom resource that copies the code
 * into it.
 */
function acknowledgeWebFunction(webFunction: lambda.WebFunction, copyRole: iam.Role | undefined) {
  if (webFunction.endpoint.authType === lambda.WebFunctionAuthType.APPLICATION_MANAGED) {
    // Acknowledges the warning as Annotations.acknowledgeWarning does, and also keeps the
    // reason in the construct's metadata, beside the rule acknowledgements.
    Validations.of(webFunction.endpoint).acknowledge({
      id: `Annotation::${PUBLIC_ENDPOINT_WARNING}`,
      reason: 'the server checks subscriber tokens itself',
    });
  }

  const bucket = Stack.of(webFunction).node.tryFindChild(MANAGED_CODE_BUCKET_ID);
  if (bucket !== undefined) {
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The Web Function code bucket (made by aws-cdk-lib per stack) holds only deployment ' +
        'packages: CloudFormation writes each revision’s code object through the copy custom ' +
        'resource and the Lambda service reads it. Nobody else reads or writes it, so access ' +
        'logs would record deployments and code fetches that CloudTrail already does.',
    });
  }

  if (copyRole === undefined) return;
  // The role's statements are CDK's grants for the copy, added when the code was bound:
  // read the staged asset, write and delete this function's code objects.
  const acknowledge = (id: string, reason: string) =>
    Validations.of(copyRole).acknowledge({ id, reason });
  for (const finding of wildcardFindings(copyRole)) {
    if (finding.startsWith('Action::')) {
      acknowledge(
        `AwsSolutions-IAM5[${finding}]`,
        'The copy custom resource of the Web Function code has CDK’s S3 write and delete ' +
          'grants (s3:Abort*, s3:DeleteObject*: aborting its own multipart uploads, deleting ' +
          'the code of replaced revisions), on its own key prefix in the code bucket only.',
      );
    } else if (finding.includes('/web-function/')) {
      acknowledge(
        `AwsSolutions-IAM5[${finding}]`,
        'The copy custom resource writes each revision’s code object under the web-function/ ' +
          'prefix of the managed code bucket, at a key derived from the code and revision ' +
          'settings at deploy time; no other object of the bucket is granted.',
      );
    } else {
      acknowledge(
        `AwsSolutions-IAM5[${finding}]`,
        'The copy custom resource reads the staged Web Function code from the CDK bootstrap ' +
          'asset bucket (s3:GetObject, s3:GetObjectVersion only), whose object keys are content ' +
          'hashes of assets, known only at synthesis.',
      );
    }
  }
}

/**
 * The wildcard findings (`AwsSolutions-IAM5[…]`) of a role's default policy, named as
 * cdk-nag names them: `Action::<action>` and `Resource::<resource>`, where a resource's
 * CloudFormation references read `<Logical.Attr>`, `<Ref>` and Fn::Sub's `${…}` as `<…>`.
 */
function wildcardFindings(role: iam.Role): string[] {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!(policy instanceof iam.Policy)) return [];
  const document = Stack.of(role).resolve(policy.document) as {
    Statement?: { Effect: string; Action: unknown; Resource: unknown }[];
  };
  const findings = new Set<string>();
  for (const statement of document.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of asList(statement.Action)) {
      if (typeof action === 'string' && action.includes('*')) findings.add(`Action::${action}`);
    }
    for (const resource of asList(statement.Resource).map(flattenReference)) {
      if (resource.includes('*')) findings.add(`Resource::${resource}`);
    }
  }
  return [...findings];
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function flattenReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const object = node as Record<string, unknown>;
  if (object['Fn::Join'] !== undefined) {
    const [delimiter, items] = object['Fn::Join'] as [string, unknown[]];
    return items.map(flattenReference).join(delimiter);
  }
  if (object['Fn::Sub'] !== undefined) return flattenReference(object['Fn::Sub']);
  if (object['Fn::GetAtt'] !== undefined) {
    const [resource, attribute] = object['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
  }
  if (object['Fn::ImportValue'] !== undefined) return flattenReference(object['Fn::ImportValue']);
  if (object.Ref !== undefined) return `<${flattenReference(object.Ref)}>`;
  return JSON.stringify(node);
}
