import { Duration, Token } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
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

/** What serves the subscribe routes: the stream function's URL or the Web Function. */
export type StreamOrigin =
  | { readonly functionUrl: lambda.FunctionUrl; readonly webFunction?: undefined }
  | { readonly webFunction: lambda.WebFunction; readonly functionUrl?: undefined };

/** The origin's own URL, ending in `/`. */
export function streamOriginUrl(origin: StreamOrigin): string {
  return origin.webFunction !== undefined
    ? `https://${origin.webFunction.endpoint.domainName}/`
    : origin.functionUrl.url;
}

/** A CloudFront distribution in front of the subscribe routes' origin. */
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
 * A distribution that passes every request straight to the origin (the function URL or
 * the Web Function endpoint): nothing cached (`CachingDisabled`), every viewer header
 * (so `Last-Event-ID`, `Authorization` and `Origin`), cookie and query string forwarded
 * except `Host` (both origins route on their own host name), no compression (it would
 * hold back the event stream), HTTPS only (tokens travel in the query string), HTTP/2 to
 * viewers (a Web Function endpoint speaks HTTP/1.1 only). With an `AWS_IAM` function URL
 * or an `IAM_AUTH` endpoint, CloudFront signs its requests through Origin Access
 * Control, so only this distribution can call the origin; for the function URL it then
 * overwrites a viewer's `Authorization` header, and tokens must come as `?token=` or the
 * cookie.
 */
export function createStreamDistribution(
  scope: Construct,
  id: string,
  streamOrigin: StreamOrigin,
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
  const { webFunction, functionUrl } = streamOrigin;
  let origin: cloudfront.IOrigin;
  let signedWebFunction = false;
  if (webFunction !== undefined) {
    const endpoint = webFunction.endpoint;
    signedWebFunction = endpoint.authType === lambda.WebFunctionAuthType.IAM_AUTH;
    // Origin Access Control for a Web Function endpoint, as the aws-cloudfront-origins
    // README ("From a Lambda Web Function") shows it: the Lambda OAC type (originType
    // `lambda`, what FunctionUrlOriginAccessControl makes) signing every request with
    // SigV4 for a regional endpoint. Documented there and by CloudFront; not yet deployed
    // from this construct.
    const accessControl = signedWebFunction
      ? new cloudfront.FunctionUrlOriginAccessControl(scope, `${id}WebFunctionOriginAccess`, {
          description: 'SSE pub/sub: CloudFront signs its requests to the Web Function endpoint',
          signing: cloudfront.Signing.SIGV4_ALWAYS_AMZ_AUTH,
        })
      : undefined;
    origin = new origins.HttpOrigin(endpoint.domainName, {
      ...originProps,
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      ...(accessControl !== undefined && {
        originAccessControlId: accessControl.originAccessControlId,
      }),
    });
  } else {
    origin =
      functionUrl.authType === lambda.FunctionUrlAuthType.AWS_IAM
        ? origins.FunctionUrlOrigin.withOriginAccessControl(functionUrl, originProps)
        : new origins.FunctionUrlOrigin(functionUrl, originProps);
  }

  const distribution = new cloudfront.Distribution(scope, id, {
    comment:
      webFunction !== undefined
        ? 'SSE pub/sub: subscribers (GET /events, GET /poll) to the web function'
        : 'SSE pub/sub: subscribers (GET /events, GET /poll) to the stream function',
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

  if (webFunction !== undefined && signedWebFunction) {
    // lambda:InvokeWebFunctionEndpoint for CloudFront, in the Web Function's resource
    // policy, on behalf of this distribution only.
    webFunction.endpoint.grants.invoke(
      new iam.ServicePrincipal('cloudfront.amazonaws.com', {
        conditions: { ArnLike: { 'aws:SourceArn': distribution.distributionArn } },
      }),
    );
  }
  return distribution;
}
