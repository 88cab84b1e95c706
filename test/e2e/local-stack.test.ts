import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/dynamodb-local.js';
import {
  dynamoDBLocalPid,
  exitOf,
  groupProcesses,
  interruptStack as interrupt,
  killStackGroup,
  type StackProcess as RunningStack,
  startStackProcess,
  waitUntilGone,
} from '../support/stack-process.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Starts `npm start`'s entry as a user would, and waits for its ready line; `detached`
 * gives it a process group of its own, whose processes a test can then find.
 */
function startStack(dataDir: string, port: number, detached = false): Promise<RunningStack> {
  return startStackProcess(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    detached,
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      RETRY_MS: '100',
      STREAM_LIFETIME_SECONDS: '3',
      STREAM_LIFETIME_JITTER: '0',
    },
  });
}

function snsClient(url: string): SNSClient {
  return new SNSClient({
    endpoint: `${url}/sns`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const publishTo = (topicArn: string, channel: string, data: string, event?: string) =>
  new PublishCommand({
    TopicArn: topicArn,
    Message: data,
    MessageAttributes: {
      channel: { DataType: 'String', StringValue: channel },
      ...(event !== undefined && { event: { DataType: 'String', StringValue: event } }),
    },
  });

describe('Command: npm start (local stack)', () => {
  let dataDir: string;
  let port: number;
  let stack: RunningStack | undefined;
  const sources: EventSource[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sse-pubsub-stack-'));
    port = await freePort();
  });

  afterEach(() => {
    for (const s of sources.splice(0)) s.close();
  });

  afterAll(async () => {
    if (stack !== undefined) await interrupt(stack);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints its URL and topic ARN, and delivers what the AWS SDK publishes to a stream', async () => {
    stack = await startStack(dataDir, port);
    expect(stack.url).toBe(`http://127.0.0.1:${port}`);
    const sns = snsClient(stack.url);

    const received: { event: string; data: string; id: string }[] = [];
    const source = new EventSource(`${stack.url}/events?channel=orders`);
    sources.push(source);
    const record = (e: MessageEvent) =>
      received.push({ event: e.type, data: e.data, id: e.lastEventId });
    source.addEventListener('message', record);
    source.addEventListener('order.updated', record);
    await new Promise<void>((resolve) => source.addEventListener('stream.open', () => resolve()));

    const published = await sns.send(publishTo(stack.topicArn, 'orders', 'first'));
    expect(published.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    await sns.send(publishTo(stack.topicArn, 'orders', '{"n":2}', 'order.updated'));
    const batch = await sns.send(
      new PublishBatchCommand({
        TopicArn: stack.topicArn,
        PublishBatchRequestEntries: ['third', 'fourth'].map((data, i) => ({
          Id: `e${i}`,
          Message: data,
          MessageAttributes: { channel: { DataType: 'String', StringValue: 'orders' } },
        })),
      }),
    );
    expect(batch.Successful?.map((s) => s.Id)).toEqual(['e0', 'e1']);

    await waitFor(() => received.length === 4);
    expect(received.map((r) => [r.event, r.data])).toEqual([
      ['message', 'first'],
      ['order.updated', '{"n":2}'],
      ['message', 'third'],
      ['message', 'fourth'],
    ]);
    sns.destroy();
  });

  it('answers bad SNS input in the SNS error shape and keeps serving', async () => {
    if (stack === undefined) throw new Error('stack not started');
    const sns = snsClient(stack.url);
    const failures = [
      sns.send(
        new PublishCommand({
          TopicArn: stack.topicArn,
          Message: 'x'.repeat(262_145),
          MessageAttributes: { channel: { DataType: 'String', StringValue: 'orders' } },
        }),
      ),
      sns.send(
        new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:nope', Message: 'x' }),
      ),
    ];
    const errors = await Promise.allSettled(failures);
    expect(errors.map((e) => e.status)).toEqual(['rejected', 'rejected']);
    const [tooLong, notFound] = errors.map((e) =>
      e.status === 'rejected' ? (e.reason as Error) : undefined,
    );
    expect(tooLong?.name).toMatch(/InvalidParameter/);
    expect(notFound?.name).toMatch(/NotFound/);

    const unknown = await fetch(`${stack.url}/sns`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        // Local SNS wants a SigV4 header, as SNS does; it does not check the signature.
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: 'Action=DeleteTopic&Version=2010-03-31',
    });
    expect(unknown.status).toBe(400);
    const xml = await unknown.text();
    expect(xml).toContain('<ErrorResponse');
    expect(xml).toMatch(/<Code>InvalidAction<\/Code>/);

    // A message without a channel is valid SNS: it is accepted, then dead-lettered by the writer.
    await sns.send(new PublishCommand({ TopicArn: stack.topicArn, Message: 'no channel' }));
    await waitFor(() => {
      try {
        return readFileSync(join(dataDir, 'dead-letters.jsonl'), 'utf8').includes(
          'MISSING_CHANNEL',
        );
      } catch {
        return false;
      }
    });

    // …and the stack still serves.
    const poll = await fetch(`${stack.url}/poll?channel=orders&cursor=earliest`);
    expect(poll.status).toBe(200);
    const body = (await poll.json()) as { events: { data: string }[] };
    expect(body.events.map((e) => e.data)).toEqual(['first', '{"n":2}', 'third', 'fourth']);
    expect(stack.process.exitCode).toBeNull();
    sns.destroy();
  });

  it('keeps the log across a restart: reconnecting with the last cursor loses and repeats nothing', async () => {
    if (stack === undefined) throw new Error('stack not started');
    const first = await fetch(`${stack.url}/poll?channel=orders&cursor=earliest`);
    const { cursor } = (await first.json()) as { cursor: string };

    expect(await interrupt(stack)).toBe(0);
    stack = await startStack(dataDir, port);
    const sns = snsClient(stack.url);
    await sns.send(publishTo(stack.topicArn, 'orders', 'after restart'));

    const received: string[] = [];
    const source = new EventSource(`${stack.url}/events?channel=orders&lastEventId=${cursor}`);
    sources.push(source);
    source.addEventListener('message', (e) => received.push(e.data));
    await waitFor(() => received.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toEqual(['after restart']);
    sns.destroy();
  });

  it('stops cleanly on Ctrl-C, ending DynamoDB Local too', async () => {
    if (stack === undefined) throw new Error('stack not started');
    const dynamo = /DynamoDB:\s+(\S+)/.exec(stack.output())?.[1] ?? '';
    expect(dynamo).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(dynamo)).status).toBeGreaterThan(0); // DynamoDB Local answers while up
    expect(await interrupt(stack)).toBe(0);
    await expect(fetch(`${stack.url}/poll?channel=orders`)).rejects.toThrow();
    await expect(fetch(dynamo)).rejects.toThrow();
    stack = undefined;
  });
});

describe('Command: npm start (ends loudly and takes DynamoDB Local with it)', () => {
  let dataDir: string;
  let stack: RunningStack | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'sse-pubsub-stack-end-'));
  });

  afterEach(() => {
    if (stack !== undefined) killStackGroup(stack);
    stack = undefined;
  });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('exits non-zero, naming DynamoDB Local, its pid and the signal, when DynamoDB Local dies', async () => {
    stack = await startStack(dataDir, await freePort(), true);
    const java = await dynamoDBLocalPid(stack);
    process.kill(java, 'SIGKILL');

    expect(await exitOf(stack.process)).toBe(1);
    expect(stack.output()).toContain(
      `DynamoDB Local (pid ${java}, data folder ${join(dataDir, 'dynamodb')}) was killed by SIGKILL`,
    );
    await expect(fetch(`${stack.url}/poll?channel=orders`)).rejects.toThrow();
    const pid = stack.process.pid ?? 0;
    await waitUntilGone((await groupProcesses(pid)).map((p) => p.pid));
  });

  it('takes DynamoDB Local with it when it is killed with SIGKILL', async () => {
    stack = await startStack(dataDir, await freePort(), true);
    const java = await dynamoDBLocalPid(stack);
    stack.process.kill('SIGKILL');
    await waitUntilGone([java]);
    expect(stack.output()).toContain(`(DynamoDB Local, pid ${java})`);
  });

  it('stops every process it started, DynamoDB Local included, on SIGTERM to npm alone', async () => {
    const port = await freePort();
    stack = await startStackProcess('npm', ['start'], {
      cwd: REPO,
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir },
      detached: true,
    });
    const npm = stack.process.pid ?? 0;
    const started = await groupProcesses(npm);
    expect(started.some((p) => p.command.includes('DynamoDBLocal.jar'))).toBe(true);

    process.kill(npm, 'SIGTERM');
    await waitUntilGone(started.map((p) => p.pid));
    expect(stack.output()).toMatch(/which runs npm start, has ended: stopping/);
  });
});
