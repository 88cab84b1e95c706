/**
 * The change index end to end on DynamoDB Local: a writer (its own DynamoDBEventLog and
 * client, no way to nudge the server) records entries; the server's feed, built as the
 * Web Function host builds it (`startNewsFeed`), reads them and nudges its channels, and
 * its safety sweep (the channels' heads in batches) is the net for lost entries.
 * Subscribers are the npm `eventsource`.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBClient as SdkDynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBChangeIndex } from '../../functions/adapters/dynamodb/change-index.js';
import { DynamoDBEventLog } from '../../functions/adapters/dynamodb/event-log.js';
import {
  CHANNEL_BACKSTOP_FACTOR,
  startNewsFeed,
} from '../../functions/adapters/dynamodb/news-feed.js';
import { startSubscribeServer } from '../../functions/adapters/node/http-adapter.js';
import { createRouter } from '../../functions/http/router.js';
import { DEFAULT_SUBSCRIBE_CONFIG } from '../../functions/http/subscribe-config.js';
import { startLocalStack } from '../../local/stack.js';
import { createEventLogTable, localDynamoClient } from '../support/dynamodb.js';

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Feature: servers learn of news from the change index (DynamoDB Local)', () => {
  let writerClient: DynamoDBClient;
  let serverClient: DynamoDBClient;
  let tableName: string;
  const stops: (() => Promise<void> | void)[] = [];
  const sources: EventSource[] = [];

  beforeAll(async () => {
    writerClient = localDynamoClient();
    serverClient = localDynamoClient();
    tableName = await createEventLogTable(writerClient);
  });

  afterEach(async () => {
    for (const source of sources.splice(0)) source.close();
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  afterAll(() => {
    writerClient.destroy();
    serverClient.destroy();
  });

  /** The server side as the Web Function host builds it, with a given safety sweep. */
  async function startServer(safetyPollMs: number) {
    const news = startNewsFeed({
      eventLog: new DynamoDBEventLog({ client: serverClient, tableName }),
      client: serverClient,
      tableName,
      poll: { minMs: 200, maxMs: 1_000 },
      retentionMs: 24 * 3_600_000,
      changeIndex: { shards: 1, pollMinMs: 50, pollMaxMs: 200, safetyPollMs },
      log: { info: () => undefined, error: () => undefined },
    });
    const { feed } = news;
    const router = createRouter({
      config: DEFAULT_SUBSCRIBE_CONFIG,
      feed: () => feed,
      clock: Date.now,
      random: Math.random,
    });
    const server = await startSubscribeServer({ router });
    stops.push(
      () => news.close(),
      () => server.close(),
    );
    return { server, news };
  }

  function subscribe(url: string): { messages: string[]; opened: () => boolean } {
    const source = new EventSource(url);
    sources.push(source);
    const messages: string[] = [];
    let opened = false;
    source.addEventListener('stream.open', () => {
      opened = true;
    });
    source.addEventListener('message', (event: MessageEvent) => messages.push(String(event.data)));
    return { messages, opened: () => opened };
  }

  async function publishAll(log: DynamoDBEventLog, channel: string, datas: readonly string[]) {
    for (const data of datas) {
      await log.append(channel, [{ event: 'message', data, dedupeKey: randomUUID() }]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('delivers within seconds from the index alone, while the safety poll is a minute away', async () => {
    // Prepare: a 60 s safety poll, so only the index can bring events sooner
    const { server, news } = await startServer(60_000);
    const writer = new DynamoDBEventLog({
      client: writerClient,
      tableName,
      changes: new DynamoDBChangeIndex({ client: writerClient, tableName }),
    });
    const channels = Array.from({ length: 8 }, (_, i) => `user/${i}-${randomUUID()}`);
    const subscribers = channels.map((c) => subscribe(`${server.url}/events?channel=${c}`));
    await waitFor(() => subscribers.every((s) => s.opened()), 10_000, 'every stream to open');

    // Act
    const sent = ['e1', 'e2', 'e3'];
    await Promise.all(channels.map((c) => publishAll(writer, c, sent)));

    // Assess: every event once, in order, on every channel, well before the safety poll
    await waitFor(
      () => subscribers.every((s) => s.messages.length >= sent.length),
      10_000,
      'the events through the index',
    );
    for (const s of subscribers) expect(s.messages).toEqual(sent);
    expect(news.watcher?.reads).toBeGreaterThan(0);
  });

  it('still delivers every event exactly once, in order, when the index entries are lost', async () => {
    // Prepare: a writer that records nothing (every entry lost) and a 2 s safety sweep;
    // the channel's own last-resort poll is CHANNEL_BACKSTOP_FACTOR × that away
    const safetyPollMs = 2_000;
    const { server, news } = await startServer(safetyPollMs);
    const writer = new DynamoDBEventLog({ client: writerClient, tableName });
    const channel = `user/lost-${randomUUID()}`;
    const subscriber = subscribe(`${server.url}/events?channel=${channel}`);
    await waitFor(subscriber.opened, 10_000, 'the stream to open');
    const since = Date.now() - 1;

    // Act
    const sent = ['l1', 'l2', 'l3', 'l4'];
    await publishAll(writer, channel, sent);

    // Assess: the sweep brings them well before the channel's own poll could
    await waitFor(
      () => subscriber.messages.length >= sent.length,
      safetyPollMs * (CHANNEL_BACKSTOP_FACTOR - 1),
      'the safety sweep',
    );
    await new Promise((resolve) => setTimeout(resolve, safetyPollMs + 100));
    expect(subscriber.messages).toEqual(sent);
    expect(news.sweep?.reads).toBeGreaterThan(0);
    const index = new DynamoDBChangeIndex({ client: serverClient, tableName });
    expect((await index.changesSince(since)).filter((e) => e.channel === channel)).toEqual([]);
  });

  it('lets the local stack hear a writer in another process through the index, when CHANGE_INDEX_SHARDS is set', async () => {
    // Prepare: the local stack with the index and a ten-minute safety poll
    const stack = await startLocalStack({
      port: 0,
      inMemory: true,
      env: { CHANGE_INDEX_SHARDS: '1', SAFETY_POLL_SECONDS: '600', TABLE_NAME: 'events' },
      log: { info: () => {}, error: () => {} },
    });
    stops.push(() => stack.stop());
    const outside = new SdkDynamoDBClient({
      endpoint: stack.dynamoEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    stops.push(() => outside.destroy());
    const writer = new DynamoDBEventLog({
      client: outside,
      tableName: 'events',
      changes: new DynamoDBChangeIndex({ client: outside, tableName: 'events' }),
    });
    const channel = `user/${randomUUID()}`;
    const subscriber = subscribe(`${stack.url}/events?channel=${channel}`);
    await waitFor(subscriber.opened, 10_000, 'the stream to open');

    // Act: an append that bypasses the stack's own writer (and its in-process nudge)
    await publishAll(writer, channel, ['x1', 'x2']);

    // Assess
    await waitFor(() => subscriber.messages.length >= 2, 10_000, 'the events through the index');
    expect(subscriber.messages).toEqual(['x1', 'x2']);
  });
});
