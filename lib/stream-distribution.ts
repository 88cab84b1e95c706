import { Duration, Token } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { SsePubSubConfigError } from './errors.js';

/**
 * CloudFront's default origin read timeout: how long it waits for the first byte and,
 * on a streamed response, between bytes. Heartbeats must come more often, and a
 * long-poll (`wait` ≤ 20 s) must answer within it. The default fits every account's
 * quota; longer ones need a quota increase.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html
 */
export const CLOUDFRONT_ORIGIN_READ_TIMEOUT = Duration.seconds(30);

/** A CloudFront distribution in front of the stream function URL. */
export interface SsePubSubCloudFrontProps {
  /**
   * Which edge locations serve subscribers.
   *
   * @default cloudfront.PriceClass.PRICE_CLASS_ALL
   */
  readonly priceClass?: cloudfront.PriceClass;

  /**
   * Your own host names for the stream URL (`events.example.com`). Needs `certificate`;
   * point the names' DNS records at the distribution yourself.
   *
   * @default - the distribution's `*.cloudfront.net` name
   */
  readonly domainNames?: string[];

  /**
   * An ACM certificate in us-east-1 covering `domainNames`. With it, viewers need
   * TLS 1.2 or later.
   *
   * @default - CloudFront's default certificate (no `domainNames`)
   */
  readonly certificate?: acm.ICertificate;

  /**
   * The ARN of an AWS WAF web ACL (scope `CLOUDFRONT`, made in us-east-1).
   *
   * @default - no web ACL
   */
  readonly webAclId?: string;

  /**
   * Where CloudFront writes standard access logs (a bucket with ACLs enabled).
   * Log lines hold query strings, including `?token=`: restrict who reads the bucket.
   *
   * @default - no access logs
   */
  readonly logBucket?: s3.IBucket;
}

/**
 * A distribution that passes every request straight to the function URL: nothing cached
 * (`CachingDisabled`), every viewer header (so `Last-Event-ID`, `Authorization` and
 * `Origin`), cookie and query string forwarded except `Host` (a function URL routes on
 * its own host name), no compression (it would hold back the event stream), HTTPS only
 * (tokens travel in the query string). With an `AWS_IAM` function URL, CloudFront
 * signs its requests through Origin Access Control, so only this distribution can call
 * the function; then it overwrites a viewer's `Authorization` header, and tokens must
 * come as `?token=` or the cookie.
 */
export function createStreamDistribution(
  scope: Construct,
  id: string,
  functionUrl: lambda.FunctionUrl,
  props: SsePubSubCloudFrontProps,
): cloudfront.Distribution {
  const domainNames = props.domainNames ?? [];
  if (domainNames.length > 0 !== (props.certificate !== undefined)) {
    throw new SsePubSubConfigError(
      'SsePubSub: cloudFront.domainNames and cloudFront.certificate go together: ' +
        'CloudFront serves your own names only with a certificate that covers them',
    );
  }
  for (const name of domainNames) {
    if (!Token.isUnresolved(name) && !/^[a-z0-9*]([a-z0-9.-]*[a-z0-9])?$/i.test(name)) {
      throw new SsePubSubConfigError(
        `SsePubSub: cloudFront.domainNames entries must be host names like "events.example.com", got ${JSON.stringify(name)}`,
      );
    }
  }

  const originProps = { readTimeout: CLOUDFRONT_ORIGIN_READ_TIMEOUT };
  const origin =
    functionUrl.authType === lambda.FunctionUrlAuthType.AWS_IAM
      ? origins.FunctionUrlOrigin.withOriginAccessControl(functionUrl, originProps)
      : new origins.FunctionUrlOrigin(functionUrl, originProps);

  return new cloudfront.Distribution(scope, id, {
    comment: 'SSE pub/sub: subscribers (GET /events, GET /poll) to the stream function',
    defaultBehavior: {
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      compress: false,
    },
    // HTTP/2 lifts browsers' limit of 6 HTTP/1.1 connections per host, which open
    // EventSources in several tabs would otherwise exhaust.
    httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_ALL,
    // The default *.cloudfront.net certificate has a fixed policy; a custom one can require TLS 1.2.
    ...(props.certificate !== undefined && {
      certificate: props.certificate,
      domainNames,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
    }),
    ...(props.webAclId !== undefined && { webAclId: props.webAclId }),
    ...(props.logBucket !== undefined && { enableLogging: true, logBucket: props.logBucket }),
  });
}
