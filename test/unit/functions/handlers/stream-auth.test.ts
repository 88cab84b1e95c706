/**
 * The Lambda entry's access control wiring: the secret fetched from Secrets Manager at
 * cold start (top-level await), configuration errors naming what to fix, and the request
 * limits (query length) the routes enforce.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { InvocationContext } from '../../../../functions/adapters/lambda/http-adapter.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import { PollingFeed } from '../../../../functions/core/polling-feed.js';
import type { HttpResponse } from '../../../../functions/http/http-types.js';
import { createRouter } from '../../../../functions/http/router.js';
import {
  DEFAULT_SUBSCRIBE_CONFIG,
  MAX_QUERY_BYTES,
  readSubscribeConfig,
} from '../../../../functions/http/subscribe-config.js';
import { RecordingResponseStream } from '../../../support/awslambda-shim.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sse-token-AbCdEf';
const SECRET_TEXT = 'entry-secret-of-at-least-32-bytes-01234567';

function urlEvent(path: string, query: string): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers: { host: 'x.lambda-url.us-east-1.on.aws' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'x',
      domainName: 'x.lambda-url.us-east-1.on.aws',
      domainPrefix: 'x',
      http: {
        method: 'GET',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'vitest',
      },
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      time: '02/Nov/2026:10:00:00 +0000',
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}

const context: InvocationContext = {
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 30_000,
};

describe('Module: functions/handlers/stream.ts (access control)', () => {
  const secrets = mockClient(SecretsManagerClient);

  beforeEach(() => {
    secrets.reset();
    vi.stubEnv('TABLE_NAME', 'events-entry-auth-test');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    vi.resetModules();
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('fetches the secret named by AUTH_SECRET_ARN once, at load, and verifies with it', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: SECRET_TEXT });
    vi.stubEnv('AUTH_PRIVATE_PREFIXES', 'private/');
    vi.stubEnv('AUTH_SECRET_ARN', ARN);
    const { handler } = await import('../../../../functions/handlers/stream.js');
    const good = await new SignJWT({
      aud: 'sse-pubsub',
      exp: Math.floor(Date.now() / 1000) + 60,
      channels: ['private/a'],
    })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET_TEXT));

    // Act: a 403 and a 401 need no table; only verification.
    const forbidden = new RecordingResponseStream();
    await handler(urlEvent('/poll', `channel=private/b&token=${good}`), forbidden, context);
    const missing = new RecordingResponseStream();
    await handler(urlEvent('/poll', 'channel=private/b'), missing, context);

    // Assess
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(forbidden.prelude?.statusCode).toBe(403);
    expect(JSON.parse(forbidden.body())).toEqual({
      error: { code: 'forbidden', message: 'token does not grant channel "private/b"' },
    });
    expect(missing.prelude?.statusCode).toBe(401);
  });

  it('fails to load, naming the ARN, when the secret cannot be read', async () => {
    secrets.on(GetSecretValueCommand).rejects(new Error('not authorized to GetSecretValue'));
    vi.stubEnv('AUTH_PRIVATE_PREFIXES', 'private/');
    vi.stubEnv('AUTH_SECRET_ARN', ARN);
    await expect(import('../../../../functions/handlers/stream.js')).rejects.toThrow(
      `cannot read the token secret ${ARN} (AUTH_SECRET_ARN)`,
    );
  });

  it('fails to load when private prefixes have nothing to verify tokens with', async () => {
    vi.stubEnv('AUTH_PRIVATE_PREFIXES', 'private/');
    await expect(import('../../../../functions/handlers/stream.js')).rejects.toThrow(
      'AUTH_PRIVATE_PREFIXES is set, but nothing verifies tokens',
    );
  });

  it('fails to load, naming AUTH_SECRET, when the secret is short', async () => {
    vi.stubEnv('AUTH_SECRET', 'too-short');
    await expect(import('../../../../functions/handlers/stream.js')).rejects.toThrow(
      'environment variable AUTH_SECRET must be at least 32 bytes',
    );
  });
});

describe('Function: parseSubscribeRequest (query length limit)', () => {
  const route = (query: string, maxQueryBytes?: number) =>
    createRouter({
      config: { ...DEFAULT_SUBSCRIBE_CONFIG, maxQueryBytes },
      feed: () => new PollingFeed(new MemoryEventLog()),
      clock: Date.now,
      random: () => 0,
    })({ method: 'GET', path: '/events', query: new URLSearchParams(query), headers: {} });

  function errorOf(response: HttpResponse) {
    if (response.kind !== 'json') throw new Error(`expected JSON, got ${response.kind}`);
    return { status: response.status, body: response.body };
  }

  it(`answers 414 uri_too_long above ${MAX_QUERY_BYTES} bytes by default`, async () => {
    const padding = 'x'.repeat(MAX_QUERY_BYTES);
    expect(errorOf(await route(`channel=a&pad=${padding}`))).toEqual({
      status: 414,
      body: {
        error: {
          code: 'uri_too_long',
          message: `query string is ${MAX_QUERY_BYTES + 14} bytes; the limit is ${MAX_QUERY_BYTES}`,
        },
      },
    });
    const fits = `channel=a&pad=${'x'.repeat(MAX_QUERY_BYTES - 14)}`;
    expect((await route(fits)).status).toBe(200);
  });

  it('counts percent-encoded bytes, as sent', async () => {
    const response = await route(`channel=a&pad=${'é'.repeat(700)}`);
    expect(response.status).toBe(414); // 700 × 6 bytes of %C3%A9
  });

  it('takes its limit from MAX_QUERY_BYTES', async () => {
    const config = readSubscribeConfig({ MAX_QUERY_BYTES: '64' });
    expect(config.maxQueryBytes).toBe(64);
    expect(readSubscribeConfig({}).maxQueryBytes).toBeUndefined();
    expect(() => readSubscribeConfig({ MAX_QUERY_BYTES: 'big' })).toThrow(
      'MAX_QUERY_BYTES must be a positive integer',
    );
    expect((await route(`channel=a&pad=${'x'.repeat(60)}`, 64)).status).toBe(414);
  });
});
