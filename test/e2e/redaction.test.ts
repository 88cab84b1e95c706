/**
 * Tokens never reach a log. Everything the Lambda entry (powertools Logger on stdout)
 * and the local stack (its log callback, and the console) print is captured while
 * requests carry a token in each of the three places — valid, invalid, for public and
 * private channels, and on failure paths — and searched for the token and its parts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { format } from 'node:util';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { InvocationContext } from '../../functions/adapters/lambda/http-adapter.js';
import type { Log } from '../../functions/core/log.js';
import type {} from '../../functions/writer/process-batch.js';
import { startLocalStack } from '../../local/stack.js';
import { RecordingResponseStream } from '../support/awslambda-shim.js';
import { createEventLogTable, localDynamoClient } from '../support/dynamodb.js';

const SECRET_TEXT = 'redaction-secret-of-at-least-32-bytes-0123';
const SECRET = new TextEncoder().encode(SECRET_TEXT);
const OTHER = new TextEncoder().encode('redaction-other-secret-of-32-bytes-or-more');
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function token(claims: JWTPayload = {}, key: Uint8Array = SECRET): Promise<string> {
  return new SignJWT({
    aud: 'sse-pubsub',
    exp: nowSeconds() + 600,
    channels: ['private/a'],
    sub: 'user-7',
    ...claims,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(key);
}

/** A JWKS URL on a port nothing listens on: fetching it fails (a 500 path). */
async function unansweredUrl(): Promise<string> {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  return `http://127.0.0.1:${port}/jwks.json`;
}

type Placement = 'authorization' | 'query' | 'cookie';
const PLACEMENTS: readonly Placement[] = ['authorization', 'query', 'cookie'];

/** Every line written to stdout, stderr or the console while it is on. */
class OutputCapture {
  readonly #chunks: string[] = [];
  readonly #restore: (() => void)[] = [];

  start(): void {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      const chunks = this.#chunks;
      stream.write = function write(chunk: unknown, ...rest: unknown[]): boolean {
        chunks.push(
          typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(),
        );
        const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      } as typeof stream.write;
      this.#restore.push(() => {
        stream.write = original;
      });
    }
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const spy = vi
        .spyOn(console, method)
        .mockImplementation((...args: unknown[]) => void this.#chunks.push(format(...args)));
      this.#restore.push(() => spy.mockRestore());
    }
  }

  add(text: string): void {
    this.#chunks.push(text);
  }

  stop(): string {
    for (const restore of this.#restore.splice(0).reverse()) restore();
    return this.#chunks.join('\n');
  }
}

/** The token, and each of its three parts: none may appear. */
function expectNoTrace(output: string, tokens: readonly string[]): void {
  for (const t of tokens) {
    expect(output).not.toContain(t);
    for (const part of t.split('.')) {
      if (part.length >= 16) expect(output).not.toContain(part);
    }
  }
}

describe('Module: functions/handlers/stream.ts (log redaction)', () => {
  let capture: OutputCapture | undefined;

  beforeAll(() => {
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', inject('dynamoEndpoint'));
  });

  afterEach(() => {
    capture?.stop();
    capture = undefined;
    vi.unstubAllEnvs();
  });

  function urlEvent(
    query: string,
    headers: Record<string, string>,
    cookies?: string[],
  ): LambdaFunctionURLEvent {
    return {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/events',
      rawQueryString: query,
      headers: { host: 'x.lambda-url.us-east-1.on.aws', ...headers },
      ...(cookies && { cookies }),
      requestContext: {
        accountId: 'anonymous',
        apiId: 'x',
        domainName: 'x.lambda-url.us-east-1.on.aws',
        domainPrefix: 'x',
        http: {
          method: 'GET',
          path: '/events',
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

  function place(where: Placement, channel: string, t: string): LambdaFunctionURLEvent {
    const query = `channel=${encodeURIComponent(channel)}`;
    if (where === 'query') return urlEvent(`${query}&token=${t}`, {});
    if (where === 'authorization') return urlEvent(query, { authorization: `Bearer ${t}` });
    return urlEvent(query, {}, ['theme=dark', `sse_token=${t}`]);
  }

  const context = (): InvocationContext => {
    const deadline = Date.now() + 30_000;
    return { awsRequestId: 'req-1', getRemainingTimeInMillis: () => deadline - Date.now() };
  };

  async function loadHandler(tableName: string, jwksUrl: string) {
    vi.stubEnv('AUTH_JWKS_URL', jwksUrl);
    vi.stubEnv('TABLE_NAME', tableName);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('AUTH_PRIVATE_PREFIXES', 'private/');
    vi.stubEnv('AUTH_SECRET', SECRET_TEXT);
    vi.stubEnv('STREAM_LIFETIME_SECONDS', '1');
    vi.stubEnv('STREAM_LIFETIME_JITTER', '0');
    vi.stubEnv('POLL_MIN_MS', '50');
    vi.stubEnv('POLL_MAX_MS', '100');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'stream');
    vi.resetModules();
    return (await import('../../functions/handlers/stream.js')).handler;
  }

  it('prints no token sent in any of the three places, on success, refusal and failure', async () => {
    // Prepare
    const client = localDynamoClient();
    const tableName = await createEventLogTable(client);
    client.destroy();
    const good = await token();
    const forged = await token({}, OTHER);
    const expired = await token({ exp: nowSeconds() - 60 });
    const { privateKey } = await generateKeyPair('RS256');
    const jwksToken = await new SignJWT({ aud: 'sse-pubsub', exp: nowSeconds() + 600 })
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .sign(privateKey);
    const tokens = [good, forged, expired, jwksToken];
    const jwksUrl = await unansweredUrl();
    capture = new OutputCapture();
    capture.start();
    const statuses: number[] = [];

    // Act: a table that exists (streams), then one that does not (failures).
    for (const table of [tableName, `missing-${tableName}`]) {
      const handler = await loadHandler(table, jwksUrl);
      for (const where of PLACEMENTS) {
        for (const [channel, t] of [
          ['private/a', good],
          ['private/a', forged],
          ['private/a', expired],
          ['private/a', jwksToken],
          ['public/b', forged],
        ] as const) {
          const stream = new RecordingResponseStream();
          await handler(place(where, channel, t), stream, context()).catch(() => {});
          statuses.push(stream.prelude?.statusCode ?? 0);
        }
      }
    }
    const output = capture.stop();

    // Assess: the capture saw the log lines, and they hold no token.
    expect(statuses).toContain(200);
    expect(statuses).toContain(401);
    expect(statuses).toContain(500);
    expect(output).toContain('stream ended');
    expect(output).toContain('request served');
    expect(output).toContain('stream failed');
    expect(output).toContain('request failed');
    expect(output).toContain('private/a');
    expectNoTrace(output, tokens);
  }, 60_000);
});

describe('Function: startLocalStack (log redaction)', () => {
  let capture: OutputCapture | undefined;

  afterEach(() => {
    capture?.stop();
    capture = undefined;
  });

  it('prints no token sent in any of the three places, through its log callback or the console', async () => {
    // Prepare: HS256, and a JWKS URL nobody answers, for a failure path.
    const jwksUrl = await unansweredUrl();
    const lines: string[] = [];
    const log: Log = {
      info: (message, fields) => lines.push(`${message} ${JSON.stringify(fields)}`),
      error: (message, fields) => lines.push(`ERROR ${message} ${JSON.stringify(fields)}`),
    };
    capture = new OutputCapture();
    capture.start();
    const stack = await startLocalStack({
      port: 0,
      inMemory: true,
      log,
      env: {
        AUTH_PRIVATE_PREFIXES: 'private/',
        AUTH_SECRET: SECRET_TEXT,
        AUTH_JWKS_URL: jwksUrl,
        STREAM_LIFETIME_SECONDS: '1',
        STREAM_LIFETIME_JITTER: '0',
      },
    });
    const { privateKey } = await generateKeyPair('RS256');
    const good = await token();
    const forged = await token({}, OTHER);
    const jwksToken = await new SignJWT({
      aud: 'sse-pubsub',
      exp: nowSeconds() + 600,
      channels: ['private/a'],
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .sign(privateKey);
    const statuses: number[] = [];

    // Act
    try {
      for (const where of PLACEMENTS) {
        for (const [channel, t] of [
          ['private/a', good],
          ['private/a', forged],
          ['private/a', jwksToken],
          ['public/b', forged],
        ] as const) {
          const url = new URL(`${stack.url}/events`);
          url.searchParams.set('channel', channel);
          const headers: Record<string, string> = {};
          if (where === 'query') url.searchParams.set('token', t);
          if (where === 'authorization') headers.authorization = `Bearer ${t}`;
          if (where === 'cookie') headers.cookie = `sse_token=${t}`;
          const response = await fetch(url, { headers });
          await response.text();
          statuses.push(response.status);
        }
      }
    } finally {
      await stack.stop();
    }
    for (const line of lines) capture.add(line);
    const output = capture.stop();

    // Assess
    expect(statuses).toEqual(expect.arrayContaining([200, 401, 500]));
    expect(lines.join('\n')).toContain('request failed');
    expectNoTrace(output, [good, forged, jwksToken]);
  }, 90_000);
});
