/**
 * The client SDK (client/) with access control on the local stack: short-lived HS256
 * tokens from `getToken` are replaced before they expire, a refused token is replaced
 * after the 401, and nothing is lost or repeated meanwhile.
 */
import { randomUUID } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { EventSource } from 'eventsource';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientEvent,
  type SubscribeError,
  type SubscribeOptions,
  subscribe,
  type TransportOption,
  tokenExpiry,
} from '../../client/src/index.js';
import { startLocalStack } from '../../local/stack.js';
import { type BufferingProxy, startBufferingProxy } from '../support/buffering-proxy.js';
import { localSnsClient } from '../support/local-sns-client.js';

type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;

const SECRET = 'a test secret of at least thirty-two bytes';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A token for `channels` that expires `seconds` from now (whole seconds, as JWT has it). */
function mint(channels: string[], seconds: number): Promise<string> {
  return new SignJWT({ channels })
    .setProtectedHeader({ alg: 'HS256' })
    .setAudience('sse-pubsub')
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(SECRET));
}

describe('Function: subscribe (tokens)', () => {
  let stack: LocalStack;
  let proxy: BufferingProxy;
  let sns: SNSClient;
  let stops: (() => void)[] = [];
  let problems: string[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      inMemory: true,
      env: {
        AUTH_PRIVATE_PREFIXES: 'private/',
        AUTH_SECRET: SECRET,
        // Long-lived streams: only the tokens make them end.
        STREAM_LIFETIME_SECONDS: '60',
        RETRY_MS: '100',
      },
      log: {
        info: () => {},
        error: (message, fields) => problems.push(`stack: ${message} ${JSON.stringify(fields)}`),
      },
    });
    sns = localSnsClient(stack.url);
  });

  afterEach(async () => {
    for (const stop of stops) stop();
    stops = [];
    await proxy?.close();
    expect(problems).toEqual([]);
    problems = [];
  });

  afterAll(async () => {
    sns?.destroy();
    await stack?.stop();
  });

  function run(options: Partial<SubscribeOptions> & { channels: readonly string[] }) {
    const seen = {
      events: [] as ClientEvent[],
      states: [] as string[],
      errors: [] as SubscribeError[],
    };
    stops.push(
      subscribe({
        url: proxy.url,
        EventSource,
        timing: { backoffBaseMs: 100, backoffMaxMs: 1_000, pollWaitSeconds: 20 },
        onEvent: (e) => seen.events.push(e),
        onStateChange: (state, info) => seen.states.push(`${state}:${info.transport}`),
        onError: (error) => seen.errors.push(error),
        ...options,
      }),
    );
    return seen;
  }

  async function publishSeries(channel: string, count: number, gapMs: number): Promise<string[]> {
    const sent: string[] = [];
    for (let n = 1; n <= count; n += 1) {
      const data = `secret ${n}`;
      await sns.send(
        new PublishCommand({
          TopicArn: stack.topicArn,
          Message: data,
          MessageAttributes: { channel: { DataType: 'String', StringValue: channel } },
        }),
      );
      sent.push(data);
      await pause(gapMs);
    }
    return sent;
  }

  const live = (transport: TransportOption) => (transport === 'sse' ? 'open:sse' : 'polling:poll');

  for (const transport of ['sse', 'poll'] as const) {
    it(`replaces an expiring token through getToken without losing events (${transport})`, async () => {
      proxy = await startBufferingProxy(stack.url);
      const channel = `private/${randomUUID().slice(0, 8)}`;
      const issued: string[] = [];
      const seen = run({
        channels: [channel],
        transport,
        getToken: async () => {
          const token = await mint([channel], 4);
          issued.push(token);
          return token;
        },
      });
      await expect.poll(() => seen.states.at(-1), { timeout: 10_000 }).toBe(live(transport));

      // About 7 s of events: several 3–4 s tokens come and go.
      const sent = await publishSeries(channel, 24, 250);
      await expect.poll(() => seen.events.map((e) => e.data), { timeout: 15_000 }).toEqual(sent);
      await pause(1_000);
      expect(seen.events.map((e) => e.data)).toEqual(sent);

      expect(issued.length).toBeGreaterThanOrEqual(3);
      const path = transport === 'sse' ? '/events' : '/poll';
      const used = new Set(proxy.requestsTo(path).map((r) => r.query.get('token')));
      expect(used.size).toBeGreaterThanOrEqual(3);
      for (const token of used) expect(issued).toContain(token);
      if (transport === 'sse') {
        // Each stream was replaced before its token expired, not after the server ended it.
        const streams = proxy.requestsTo('/events');
        for (const [i, next] of streams.slice(1).entries()) {
          const exp = tokenExpiry(streams[i]?.query.get('token') ?? '') ?? 0;
          expect(next.at).toBeLessThan(exp * 1000);
        }
      }
      // Renewed before expiry: the server never had to refuse one.
      expect(seen.errors).toEqual([]);
    });

    it(`answers a 401 with a new token from getToken (${transport})`, async () => {
      proxy = await startBufferingProxy(stack.url);
      const channel = `private/${randomUUID().slice(0, 8)}`;
      let calls = 0;
      const seen = run({
        channels: [channel],
        transport,
        getToken: async () => {
          calls += 1;
          // The first one has expired already (say, restored from storage).
          return mint([channel], calls === 1 ? -10 : 60);
        },
      });
      await expect.poll(() => seen.states.at(-1), { timeout: 10_000 }).toBe(live(transport));
      expect(seen.errors.map((e) => [e.code, e.status, e.fatal])).toEqual([
        ['unauthorized', 401, false],
      ]);
      expect(calls).toBe(2);
      const sent = await publishSeries(channel, 3, 100);
      await expect.poll(() => seen.events.map((e) => e.data), { timeout: 10_000 }).toEqual(sent);
    });
  }

  it('stops with a fatal error when the token does not grant the channel', async () => {
    proxy = await startBufferingProxy(stack.url);
    const channel = `private/${randomUUID().slice(0, 8)}`;
    const seen = run({ channels: [channel], token: await mint(['private/other'], 60) });
    await expect.poll(() => seen.states.at(-1), { timeout: 10_000 }).toBe('closed:sse');
    expect(seen.errors.at(-1)).toMatchObject({ code: 'forbidden', status: 403, fatal: true });
    expect(seen.errors.at(-1)?.message).toContain(channel);
  });

  it('stops with a fatal error when a fixed token expires and nothing can replace it', async () => {
    proxy = await startBufferingProxy(stack.url);
    const channel = `private/${randomUUID().slice(0, 8)}`;
    const seen = run({ channels: [channel], token: await mint([channel], 3) });
    await expect.poll(() => seen.states.at(-1), { timeout: 10_000 }).toBe('open:sse');
    await expect.poll(() => seen.states.at(-1), { timeout: 10_000 }).toBe('closed:sse');
    expect(seen.errors.at(-1)).toMatchObject({ code: 'unauthorized', status: 401, fatal: true });
  });
});
