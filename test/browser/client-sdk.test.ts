/**
 * The client SDK (client/) in a real headless Chromium, driven by playwright-core,
 * against the whole local stack. The SDK is bundled from its sources with the local
 * esbuild and served, with a small page that uses it, from a static server on another
 * port (so every request to the stack is cross-origin, as in production). The page
 * keeps its cursor in `localStorage`.
 *
 * Needs the system Chromium (`apt-get install chromium`, or CHROMIUM_PATH); never
 * `npx playwright install`. Run with `npm run test:browser`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { build } from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SubscribeTiming } from '../../client/src/index.js';
import { freePort } from '../../local/dynamodb-local.js';
import { startLocalStack } from '../../local/stack.js';
import { type Chromium, launchChromium } from '../support/chromium.js';
import { localSnsClient } from '../support/local-sns-client.js';

const CLIENT_ENTRY = fileURLToPath(new URL('../../client/src/index.ts', import.meta.url));

type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;

const TIMING: Partial<SubscribeTiming> = {
  openTimeoutMs: 3_000,
  firstEventTimeoutMs: 3_000,
  backoffBaseMs: 100,
  backoffMaxMs: 1_000,
  pollWaitSeconds: 5,
};

/**
 * The page: subscribes on load to `?channel=` at `?url=`, keeping its cursor in
 * localStorage, and records what the SDK reports on `window.sdk`.
 */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>client SDK test page</title>
<ul id="events"></ul>
<script type="module">
  import { browserStorage, subscribe } from './client.js';
  const params = new URLSearchParams(location.search);
  const sdk = { events: [], states: [], resets: [], errors: [] };
  window.sdk = sdk;
  sdk.unsubscribe = subscribe({
    url: params.get('url'),
    channels: [params.get('channel')],
    storage: browserStorage(),
    timing: JSON.parse(params.get('timing') ?? '{}'),
    onEvent: (event) => {
      sdk.events.push(event);
      const item = document.createElement('li');
      item.textContent = event.data;
      document.getElementById('events').append(item);
    },
    onReset: (reset) => sdk.resets.push(reset),
    onStateChange: (state, info) => sdk.states.push(state + ':' + info.transport),
    onError: (error) => sdk.errors.push(error.code + ': ' + error.message),
  });
</script>`;

interface PageReport {
  readonly events: { id: string; channel: string; event: string; data: string }[];
  readonly states: string[];
  readonly resets: unknown[];
  readonly errors: string[];
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Function: subscribe (in Chromium)', () => {
  let stack: LocalStack | undefined;
  let port: number;
  let dataDir: string;
  let site: Server;
  let siteUrl: string;
  let context: BrowserContext;
  let browser: Chromium | undefined;
  let sns: SNSClient;
  let pages: Page[] = [];
  let problems: string[] = [];

  const startStack = async (): Promise<LocalStack> =>
    startLocalStack({
      port,
      dataDir,
      env: { STREAM_LIFETIME_SECONDS: '3', STREAM_LIFETIME_JITTER: '0', RETRY_MS: '100' },
      log: {
        info: () => {},
        error: (message, fields) => problems.push(`stack: ${message} ${JSON.stringify(fields)}`),
      },
    });

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [CLIENT_ENTRY],
      bundle: true,
      format: 'esm',
      target: 'es2020',
      write: false,
    });
    const script = bundle.outputFiles[0]?.text ?? '';
    site = createServer((req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0];
      if (path === '/client.js') {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
      } else if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;

    port = await freePort();
    dataDir = await mkdtemp(join(tmpdir(), 'client-sdk-stack-'));
    stack = await startStack();
    sns = localSnsClient(stack.url);
    browser = await launchChromium('client-sdk-chromium-');
    context = browser.context;
  });

  afterEach(async () => {
    for (const page of pages) await page.close();
    pages = [];
    expect(problems).toEqual([]);
    problems = [];
  });

  afterAll(async () => {
    await browser?.close();
    sns?.destroy();
    await stack?.stop();
    await new Promise((resolve) => site?.close(resolve));
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  /** Opens the page subscribed to `channel`; `requests` collects the URLs it asks for. */
  async function openPage(channel: string, requests: string[] = []): Promise<Page> {
    const page = await context.newPage();
    pages.push(page);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => requests.push(request.url()));
    const query = new URLSearchParams({
      url: stack?.url ?? '',
      channel,
      timing: JSON.stringify(TIMING),
    });
    await page.goto(`${siteUrl}/?${query}`);
    return page;
  }

  const report = (page: Page): Promise<PageReport> =>
    page.evaluate(() => Reflect.get(globalThis, 'sdk') as PageReport);
  const received = async (page: Page) => (await report(page)).events.map((e) => e.data);
  const lastState = async (page: Page) => (await report(page)).states.at(-1);

  async function publish(channel: string, data: string): Promise<void> {
    await sns.send(
      new PublishCommand({
        TopicArn: stack?.topicArn,
        Message: data,
        MessageAttributes: { channel: { DataType: 'String', StringValue: channel } },
      }),
    );
  }

  async function publishAll(channel: string, datas: readonly string[]): Promise<void> {
    for (const data of datas) await publish(channel, data);
  }

  /** Until exactly `expected` is shown, and still after a while (no late duplicate). */
  async function expectExactly(page: Page, expected: string[]): Promise<void> {
    await expect.poll(() => received(page), { timeout: 20_000 }).toEqual(expected);
    await pause(1_000);
    expect(await received(page)).toEqual(expected);
    expect(await page.locator('#events li').allTextContents()).toEqual(expected);
  }

  it('receives events, survives a server restart and resumes from localStorage after a reload', async () => {
    const channel = `browser-${randomUUID().slice(0, 8)}`;
    const requests: string[] = [];
    const page = await openPage(channel, requests);
    await expect.poll(() => lastState(page), { timeout: 15_000 }).toBe('open:sse');

    // Live events over the browser's own EventSource.
    await publishAll(channel, ['a1', 'a2', 'a3']);
    await expectExactly(page, ['a1', 'a2', 'a3']);
    expect(requests.some((url) => url.includes('/events?'))).toBe(true);
    const events = (await report(page)).events;
    expect(events.every((e) => e.channel === channel && e.event === 'message')).toBe(true);

    // The server goes away and comes back on the same port with the same data.
    await stack?.stop();
    stack = undefined;
    await expect
      .poll(async () => (await report(page)).states.includes('reconnecting:sse'))
      .toBe(true);
    await pause(1_500);
    const beforeRestart = requests.length;
    stack = await startStack();
    await expect
      .poll(() => lastState(page), { timeout: 20_000 })
      .toMatch(/^(open:sse|polling:poll)$/);
    await publishAll(channel, ['b1', 'b2', 'b3']);
    await expectExactly(page, ['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
    // It came back from its cursor: the first request that reached the new server
    // named the last event the page had.
    const resumed = requests
      .slice(beforeRestart)
      .map((url) => new URL(url))
      .find((url) => url.pathname === '/events' || url.pathname === '/poll');
    const lastA = events.at(-1)?.id;
    expect(resumed?.searchParams.get('lastEventId') ?? resumed?.searchParams.get('cursor')).toBe(
      lastA,
    );

    // The page goes away; events are published meanwhile; the page comes back.
    const lastB = (await report(page)).events.at(-1)?.id;
    await expect.poll(() => page.evaluate(() => Object.values(localStorage))).toContain(lastB);
    await page.goto('about:blank');
    await publishAll(channel, ['c1', 'c2']);
    await pause(500);
    const reloadRequests: string[] = [];
    const again = await openPage(channel, reloadRequests);
    await expectExactly(again, ['c1', 'c2']);
    const firstStream = reloadRequests.find((url) => url.includes('/events?'));
    expect(new URL(firstStream ?? 'http://x/').searchParams.get('lastEventId')).toBe(lastB);
    await expect.poll(() => lastState(again)).toBe('open:sse');
    await publish(channel, 'c3');
    await expectExactly(again, ['c1', 'c2', 'c3']);
    expect((await report(again)).resets).toEqual([]);
  });

  it('long-polls in a page without EventSource', async () => {
    const channel = `browser-poll-${randomUUID().slice(0, 8)}`;
    const page = await context.newPage();
    pages.push(page);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.addInitScript(() => {
      Reflect.deleteProperty(globalThis, 'EventSource');
    });
    const query = new URLSearchParams({ url: stack?.url ?? '', channel, timing: '{}' });
    await page.goto(`${siteUrl}/?${query}`);
    await expect.poll(() => lastState(page), { timeout: 10_000 }).toBe('polling:poll');
    await publishAll(channel, ['p1', 'p2']);
    await expectExactly(page, ['p1', 'p2']);
    expect(requests.some((url) => url.includes('/events?'))).toBe(false);
    expect(requests.some((url) => url.includes('/poll?') && url.includes('wait=20'))).toBe(true);
  });
});
