/**
 * The demo page (`GET /` of the local stack, local/demo/index.html) in a real headless
 * Chromium, driven by playwright-core, against the whole local stack: it subscribes
 * with the browser's own EventSource (`envelope=1`), publishes through `POST /sns`,
 * follows stream rotation with `Last-Event-ID`, falls back to long-polling, and shows
 * untrusted payloads as text.
 *
 * Needs the system Chromium (`apt-get install chromium`, or CHROMIUM_PATH); never
 * `npx playwright install`. Run alone with `npx vitest run test/browser`.
 */
import { randomUUID } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../functions/core/cursor.js';
import { startLocalStack } from '../../local/stack.js';
import { type Chromium, launchChromium } from '../support/chromium.js';
import { localSnsClient } from '../support/local-sns-client.js';

type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;

/** What the page shows for one received event. */
interface ShownEvent {
  readonly kind: string;
  readonly event: string;
  readonly channel: string;
  readonly id: string;
  readonly data: string;
}

const sel = (testid: string) => `[data-testid="${testid}"]`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const uniqueChannel = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

describe('Page: demo', () => {
  let stack: LocalStack;
  let context: BrowserContext;
  let browser: Chromium | undefined;
  let sns: SNSClient;
  let pages: Page[] = [];
  /** Uncaught errors and dialogs (an `alert` would mean injected markup ran). */
  let problems: string[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      inMemory: true,
      env: { STREAM_LIFETIME_SECONDS: '2', STREAM_LIFETIME_JITTER: '0', RETRY_MS: '100' },
      // Quiet (a line per appended event otherwise); an error line fails the test.
      log: {
        info: () => {},
        error: (message, fields) => problems.push(`stack: ${message} ${JSON.stringify(fields)}`),
      },
    });
    sns = localSnsClient(stack.url);
    browser = await launchChromium('demo-page-chromium-');
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
  });

  async function newPage(): Promise<Page> {
    const page = await context.newPage();
    pages.push(page);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
      void dialog.dismiss();
    });
    return page;
  }

  /**
   * Opens the page subscribed to `channel` and waits until its place in the log is
   * fixed (the `stream.open` note, or the first poll answer), so that every event
   * published from then on must show up.
   */
  async function openDemo(channel: string, extra = ''): Promise<Page> {
    const page = await newPage();
    await page.goto(`${stack.url}/?channel=${encodeURIComponent(channel)}${extra}`);
    await page.locator(sel('open-note')).filter({ hasText: channel }).waitFor();
    return page;
  }

  async function state(page: Page): Promise<string | null> {
    return page.locator(sel('connection-state')).getAttribute('data-state');
  }

  async function shown(page: Page): Promise<ShownEvent[]> {
    return page.locator(sel('event-item')).evaluateAll((items) =>
      items.map((item) => ({
        kind: item.getAttribute('data-kind') ?? '',
        event: item.getAttribute('data-event') ?? '',
        channel: item.getAttribute('data-channel') ?? '',
        id: item.getAttribute('data-id') ?? '',
        data: item.querySelector('[data-testid="event-data"]')?.textContent ?? '',
      })),
    );
  }

  async function shownData(page: Page): Promise<string[]> {
    return (await shown(page)).filter((e) => e.kind === 'event').map((e) => e.data);
  }

  /** Publishes from Node with the real AWS SDK, as a backend service would. */
  async function publishFromNode(channel: string, data: string, event?: string): Promise<string> {
    const result = await sns.send(
      new PublishCommand({
        TopicArn: stack.topicArn,
        Message: data,
        MessageAttributes: {
          channel: { DataType: 'String', StringValue: channel },
          ...(event === undefined ? {} : { event: { DataType: 'String', StringValue: event } }),
        },
      }),
    );
    expect(result.MessageId).toEqual(expect.any(String));
    return result.MessageId ?? '';
  }

  /** Publishes with the page's own form; resolves with the MessageId it shows. */
  async function publishFromPage(page: Page, data: string, event = ''): Promise<string> {
    const result = page.locator(sel('publish-result'));
    await page.locator(sel('event-name-input')).fill(event);
    await page.locator(sel('payload-input')).fill(data);
    const before = await result.textContent();
    await page.locator(sel('publish-button')).click();
    await expect.poll(() => result.textContent()).not.toBe(before);
    await expect.poll(() => result.getAttribute('data-status')).not.toBe('pending');
    const text = (await result.textContent()) ?? '';
    expect(await result.getAttribute('data-status'), text).toBe('ok');
    const match = /MessageId (\S+)/.exec(text);
    expect(match, text).not.toBeNull();
    return match?.[1] ?? '';
  }

  it('subscribes and lists events published from the page and from Node, in order', async () => {
    const page = await newPage();
    await page.goto(`${stack.url}/`);
    // It subscribes on load to the default channel…
    expect(await page.locator(sel('channel-input')).inputValue()).toBe('demo');
    await page.locator(sel('open-note')).filter({ hasText: 'demo' }).waitFor();
    expect(await page.locator(sel('transport')).textContent()).toBe('EventSource');
    await expect.poll(() => state(page)).toBe('open');

    // …and to another one with the Subscribe button.
    const channel = uniqueChannel('page-a');
    await page.locator(sel('channel-input')).fill(channel);
    await page.locator(sel('subscribe-button')).click();
    await page.locator(sel('open-note')).filter({ hasText: channel }).waitFor();
    await expect.poll(() => state(page)).toBe('open');
    expect(await page.locator(sel('unsubscribe-button')).isEnabled()).toBe(true);

    const messageId = await publishFromPage(page, 'hello from the page', 'greeting');
    expect(messageId).toMatch(/^[\w-]{8,}$/);
    await publishFromNode(channel, '{"from":"node","n":1}');
    await publishFromNode(channel, 'two\nlines from node', 'order.updated');
    await publishFromPage(page, 'second from the page');

    await expect
      .poll(() => shownData(page), { timeout: 10_000 })
      .toEqual([
        'hello from the page',
        '{"from":"node","n":1}',
        'two\nlines from node',
        'second from the page',
      ]);
    const events = (await shown(page)).filter((e) => e.kind === 'event');
    expect(events.map((e) => e.event)).toEqual(['greeting', 'message', 'order.updated', 'message']);
    expect(events.every((e) => e.channel === channel)).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(4);
    // The id is shown abbreviated, in full on hover.
    const idCell = page.locator(sel('event-item')).last().locator(sel('event-id'));
    expect(await idCell.getAttribute('title')).toBe(events[3]?.id);
    expect(((await idCell.textContent()) ?? '').length).toBeLessThanOrEqual(16);
    expect(await page.locator(sel('cursor')).getAttribute('title')).toBe(events[3]?.id);

    // Unsubscribe closes the stream: later events do not show up.
    await page.locator(sel('unsubscribe-button')).click();
    await expect.poll(() => state(page)).toBe('closed');
    await publishFromNode(channel, 'after unsubscribe');
    await pause(500);
    expect(await shownData(page)).toHaveLength(4);
  });

  it('shows why a publish was refused: by the page, or by SNS with its XML error', async () => {
    const channel = uniqueChannel('page-err');
    const page = await openDemo(channel);
    const result = page.locator(sel('publish-result'));
    const snsRequests: string[] = [];
    const snsAuthorizations: (string | undefined)[] = [];
    page.on('request', (request) => {
      if (!request.url().includes('/sns')) return;
      snsRequests.push(request.postData() ?? '');
      void request.allHeaders().then((headers) => snsAuthorizations.push(headers.authorization));
    });

    // A reserved name would be accepted by SNS and dead-lettered: the page says so first.
    await page.locator(sel('event-name-input')).fill('stream.mine');
    await page.locator(sel('publish-button')).click();
    await expect.poll(() => result.textContent()).toContain('reserved');
    expect(await result.getAttribute('data-status')).toBe('error');
    expect(snsRequests).toEqual([]);

    // The endpoint's own error: the request goes out for a topic that does not exist.
    await page.route('**/sns', (route) => {
      const form = new URLSearchParams(route.request().postData() ?? '');
      form.set('TopicArn', `${stack.topicArn}-missing`);
      return route.continue({ postData: form.toString() });
    });
    await page.locator(sel('event-name-input')).fill('');
    await page.locator(sel('publish-button')).click();
    await expect.poll(() => result.textContent()).toMatch(/^Error NotFound: /);
    expect(await result.getAttribute('data-status')).toBe('error');
    expect(snsRequests).toHaveLength(1);
    expect(new URLSearchParams(snsRequests[0]).get('Action')).toBe('Publish');
    // /sns refuses requests without a SigV4 Authorization header: the page sends one.
    await expect
      .poll(() => snsAuthorizations)
      .toEqual([expect.stringMatching(/^AWS4-HMAC-SHA256 Credential=[^,]+, SignedHeaders=/)]);
    await page.unroute('**/sns');

    await publishFromPage(page, 'accepted after all');
    await expect.poll(() => shownData(page)).toEqual(['accepted after all']);
  });

  it('reconnects with Last-Event-ID when the server ends the stream, losing and repeating nothing', async () => {
    const channel = uniqueChannel('page-b');
    const page = await newPage();
    const resumedWith: string[] = [];
    page.on('request', (request) => {
      if (!request.url().includes('/events?')) return;
      void request.allHeaders().then((headers) => {
        const id = headers['last-event-id'];
        if (id !== undefined) resumedWith.push(id);
      });
    });
    await page.goto(`${stack.url}/?channel=${channel}`);
    await page.locator(sel('open-note')).filter({ hasText: channel }).waitFor();

    // Streams live 2 s; publishing for about 5 s straddles at least two rotations.
    const expected: string[] = [];
    const until = Date.now() + 5_000;
    for (let n = 1; Date.now() < until; n += 1) {
      const data = `event ${n}`;
      await publishFromNode(channel, data, n % 2 === 0 ? 'even' : undefined);
      expected.push(data);
      await pause(40);
    }
    await expect.poll(() => shownData(page), { timeout: 10_000 }).toEqual(expected);
    // Nothing more arrives later either (a duplicate replayed on the next rotation).
    await pause(2_500);
    expect(await shownData(page)).toEqual(expected);

    expect(resumedWith.length).toBeGreaterThanOrEqual(2);
    const reconnects = Number(await page.locator(sel('reconnect-count')).textContent());
    expect(reconnects).toBeGreaterThanOrEqual(2);
    // Every resume named a cursor the page had been given (an event id or stream.open's).
    const known = new Set((await shown(page)).map((e) => e.id));
    known.add((await page.locator(sel('open-note')).first().getAttribute('data-id')) ?? '');
    for (const id of resumedWith) expect(known).toContain(id);
    await expect.poll(() => state(page)).toMatch(/^(open|reconnecting)$/);
  });

  it('falls back to long-polling with ?transport=poll', async () => {
    const channel = uniqueChannel('page-c');
    const page = await newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`${stack.url}/?transport=poll&channel=${channel}`);
    await page.locator(sel('open-note')).filter({ hasText: channel }).waitFor();
    expect(await page.locator(sel('transport')).textContent()).toBe('long-poll');
    await expect.poll(() => state(page)).toBe('polling');

    await publishFromNode(channel, 'polled 1');
    await publishFromPage(page, 'polled 2', 'from.page');
    await publishFromNode(channel, 'polled 3');
    await expect
      .poll(() => shownData(page), { timeout: 10_000 })
      .toEqual(['polled 1', 'polled 2', 'polled 3']);
    const events = (await shown(page)).filter((e) => e.kind === 'event');
    expect(events.map((e) => e.event)).toEqual(['message', 'from.page', 'message']);
    expect(events.every((e) => e.channel === channel)).toBe(true);

    expect(requests.some((url) => url.includes('/events'))).toBe(false);
    const longPolls = requests
      .filter((url) => url.includes('/poll?'))
      .map((url) => new URL(url).searchParams)
      .filter((params) => params.get('wait') === '20');
    expect(longPolls.length).toBeGreaterThan(0);
    expect(longPolls.every((params) => (params.get('cursor') ?? '') !== '')).toBe(true);
    expect(await state(page)).toBe('polling');
  });

  it('polls when the browser has no EventSource', async () => {
    const channel = uniqueChannel('page-c2');
    const page = await newPage();
    await page.addInitScript(() => {
      Reflect.deleteProperty(globalThis, 'EventSource');
    });
    await page.goto(`${stack.url}/?channel=${channel}`);
    await page.locator(sel('open-note')).filter({ hasText: channel }).waitFor();
    expect(await page.locator(sel('transport')).textContent()).toBe('long-poll');
    await expect.poll(() => state(page)).toBe('polling');

    await publishFromNode(channel, 'no EventSource needed');
    await expect
      .poll(() => shownData(page), { timeout: 10_000 })
      .toEqual(['no EventSource needed']);
  });

  it('replays from ?cursor=earliest and shows a stream.reset apart from events', async () => {
    for (const transport of ['', '&transport=poll']) {
      const channel = uniqueChannel('page-e');
      await publishFromNode(channel, 'kept 1');
      await publishFromNode(channel, 'kept 2');
      const replay = await openDemo(channel, `&cursor=earliest${transport}`);
      await expect.poll(() => shownData(replay)).toEqual(['kept 1', 'kept 2']);
      await replay.close();

      // A cursor beyond the channel's newest event: the server says so, then goes on.
      const ahead = encodeCursor(new Map([[channel, 1_000]]));
      const page = await newPage();
      await page.goto(`${stack.url}/?channel=${channel}&cursor=${ahead}${transport}`);
      const reset = page.locator(`${sel('event-item')}[data-kind="reset"]`);
      await reset.waitFor();
      expect(await reset.getAttribute('data-channel')).toBe(channel);
      expect(await reset.getAttribute('data-reason')).toBe('ahead');
      expect(await reset.locator(sel('event-data')).textContent()).toMatch(/^ahead: /);
      expect(await reset.locator(sel('event-name')).textContent()).toContain('stream.reset');
      // Shown differently from an event.
      const look = (selector: string) =>
        page
          .locator(selector)
          .first()
          .evaluate(
            (el) => el.ownerDocument.defaultView?.getComputedStyle(el).backgroundColor ?? '',
          );
      await publishFromNode(channel, `after reset${transport}`);
      await expect.poll(() => shownData(page)).toEqual([`after reset${transport}`]);
      expect(await look(`${sel('event-item')}[data-kind="reset"]`)).not.toBe(
        await look(`${sel('event-item')}[data-kind="event"]`),
      );
    }
  });

  it('shows markup in payloads as text', async () => {
    const channel = uniqueChannel('page-d');
    const page = await openDemo(channel);
    const payloads = [
      '<img src=x onerror=alert(1)>',
      '<script>alert(2)</script><b>bold?</b>',
      '"><svg onload=alert(3)>',
    ];
    await publishFromPage(page, payloads[0] ?? '');
    await publishFromNode(channel, payloads[1] ?? '');
    await publishFromNode(channel, payloads[2] ?? '', 'x.y');

    await expect.poll(() => shownData(page), { timeout: 10_000 }).toEqual(payloads);
    const list = page.locator(sel('event-list'));
    expect(await list.locator('img, script, svg, b').count()).toBe(0);
    const html = await list.locator(sel('event-data')).first().innerHTML();
    expect(html).toBe('&lt;img src=x onerror=alert(1)&gt;');
    // Give an injected handler time to fire; `problems` (dialogs) is checked afterwards.
    await pause(300);
  });
});
