/**
 * Acknowledges the cdk-nag (`AwsSolutions`) findings that `SsePubSub` raises by design,
 * each with its reason.
 */
import { Validations } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { SsePubSubProps } from './props.js';
import type { SsePubSubCloudFrontProps } from './stream-distribution.js';

/** The constructs of an `SsePubSub` that findings are acknowledged on. */
export interface AcknowledgedConstructs {
  readonly writer: lambda.Function;
  readonly streamFunction: lambda.Function;
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
