import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ListTopicsCommand,
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  PublishCommand,
  type PublishCommandInput,
  SNSClient,
  SNSServiceException,
} from '@aws-sdk/client-sns';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventLog } from '../../../../functions/core/event-log.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import type { QueueRecord, Rejection } from '../../../../functions/writer/ports.js';
import { processBatch } from '../../../../functions/writer/process-batch.js';
import { parseSnsEnvelope } from '../../../../functions/writer/sns-envelope.js';
import { DEFAULT_LOCAL_TOPIC_ARN } from '../../../../local/defaults.js';
import { type Deliver, Deliverer, type DeliveryRecord } from '../../../../local/sns/deliverer.js';
import { type LocalSns, startLocalSns } from '../../../../local/sns/local-sns.js';
import { MemoryOutbox, OutboxTable } from '../../../../local/sns/outbox-store.js';
import { createSnsEndpoint, type SnsEndpoint } from '../../../../local/sns/sns-endpoint.js';
import { escapeXml } from '../../../../local/sns/xml.js';
import { createPublisher } from '../../../../publisher/index.js';
import { localDynamoClient } from '../../../support/dynamodb.js';

const TOPIC = DEFAULT_LOCAL_TOPIC_ARN;
const FIFO_TOPIC = 'arn:aws:sns:us-east-1:000000000000:sse-pubsub-local.fifo';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const silent = { info() {}, error() {} };

let dynamo: DynamoDBClient;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => {
  dynamo = localDynamoClient();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(() => {
  dynamo.destroy();
});

async function serve(handle: SnsEndpoint): Promise<string> {
  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An event log whose appends to some channels fail a given number of times. */
class FlakyEventLog implements EventLog {
  readonly inner = new MemoryEventLog();
  readonly failures = new Map<string, number>();

  async append(...args: Parameters<EventLog['append']>) {
    const [channel] = args;
    const left = this.failures.get(channel) ?? 0;
    if (left > 0) {
      this.failures.set(channel, left - 1);
      throw new Error(`throttled on ${channel}`);
    }
    return this.inner.append(...args);
  }

  read(...args: Parameters<EventLog['read']>) {
    return this.inner.read(...args);
  }

  retained(...args: Parameters<EventLog['retained']>) {
    return this.inner.retained(...args);
  }
}

interface Stack {
  readonly base: string;
  readonly sns: LocalSns;
  readonly tableName: string;
  readonly eventLog: EventLog;
  /** Every record handed to the writer, in order (redeliveries included). */
  readonly delivered: DeliveryRecord[];
  readonly deadLetters: { record: QueueRecord; rejection: Rejection }[];
  /** An SNSClient pointed at the endpoint, as a backend would make it. */
  client(options?: { maxAttempts?: number }): SNSClient;
}

/** The endpoint over a fresh outbox table on DynamoDB Local, delivering to the real writer. */
async function startStack(
  options: { topicArn?: string; tableName?: string; eventLog?: EventLog; deliver?: Deliver } = {},
): Promise<Stack> {
  const tableName = options.tableName ?? `sns-outbox-${randomUUID()}`;
  const eventLog = options.eventLog ?? new MemoryEventLog();
  const delivered: DeliveryRecord[] = [];
  const deadLetters: { record: QueueRecord; rejection: Rejection }[] = [];
  const writer: Deliver = (records) =>
    processBatch(records, {
      eventLog,
      deadLetters: {
        send: async (record, rejection) => void deadLetters.push({ record, rejection }),
      },
      log: silent,
      metrics: { rejected() {}, appended() {}, duplicates() {}, failed() {} },
    });
  const deliver = options.deliver ?? writer;
  const sns = await startLocalSns({
    client: dynamo,
    tableName,
    topicArn: options.topicArn,
    deliver: async (records) => {
      delivered.push(...records);
      return deliver(records);
    },
    log: silent,
    deliverer: { retry: { baseMs: 20, capMs: 200 } },
  });
  cleanups.push(() => sns.stop());
  const base = await serve(sns.handle);
  return {
    base,
    sns,
    tableName,
    eventLog,
    delivered,
    deadLetters,
    client: (clientOptions = {}) => {
      const client = new SNSClient({
        endpoint: `${base}/sns`,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
        ...clientOptions,
      });
      cleanups.push(async () => client.destroy());
      return client;
    },
  };
}

async function data(log: EventLog, channel: string): Promise<string[]> {
  return (await log.read(channel, 0, { limit: 1000 })).map((e) => e.data);
}

function envelope(record: DeliveryRecord | undefined): Record<string, unknown> {
  if (record === undefined) throw new Error('no record delivered');
  return JSON.parse(record.body) as Record<string, unknown>;
}

async function snsError(promise: Promise<unknown>): Promise<SNSServiceException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SNSServiceException) return error;
    throw error;
  }
  throw new Error('the SDK call succeeded');
}

const attrs = (channel: string, extra: Record<string, string> = {}) =>
  Object.fromEntries(
    Object.entries({ channel, ...extra }).map(([name, value]) => [
      name,
      { DataType: 'String', StringValue: value },
    ]),
  );

describe('Function: createSnsEndpoint (real SNSClient, outbox on DynamoDB Local, real writer)', () => {
  it('answers Publish with a MessageId and delivers the envelope the writer reads', async () => {
    const stack = await startStack();
    const before = Date.now();
    const response = await stack.client().send(
      new PublishCommand({
        TopicArn: TOPIC,
        Message: '{"orderId":42}',
        MessageAttributes: attrs('orders/42', { event: 'order.updated', dedupeId: 'o-42-v1' }),
      }),
    );
    expect(response.MessageId).toMatch(UUID);
    expect(response.$metadata.httpStatusCode).toBe(200);
    expect(response.$metadata.requestId).toMatch(UUID);
    await stack.sns.drained();

    const [record] = stack.delivered;
    expect(record?.messageId).toMatch(UUID);
    expect(record?.messageId).not.toBe(response.MessageId);
    expect(parseSnsEnvelope(record?.body ?? '')).toEqual({
      ok: true,
      notification: {
        messageId: response.MessageId,
        message: {
          channel: 'orders/42',
          event: 'order.updated',
          dedupeId: 'o-42-v1',
          data: '{"orderId":42}',
        },
      },
    });
    const body = envelope(record);
    expect(body).toMatchObject({ Type: 'Notification', TopicArn: TOPIC, SignatureVersion: '1' });
    expect(Date.parse(body.Timestamp as string)).toBeGreaterThanOrEqual(before - 1);
    expect(await stack.eventLog.read('orders/42', 0)).toMatchObject([
      { position: 1, event: 'order.updated', data: '{"orderId":42}' },
    ]);
  });

  it('answers PublishBatch per entry and delivers every entry once, each channel in order', async () => {
    const stack = await startStack();
    const entries: PublishBatchRequestEntry[] = Array.from({ length: 10 }, (_, i) => ({
      Id: `e${i}`,
      Message: `m${i}`,
      MessageAttributes: attrs(i % 2 === 0 ? 'even' : 'odd'),
    }));
    const response = await stack
      .client()
      .send(new PublishBatchCommand({ TopicArn: TOPIC, PublishBatchRequestEntries: entries }));
    expect(response.Successful?.map((s) => s.Id)).toEqual(entries.map((e) => e.Id));
    expect(response.Successful?.every((s) => UUID.test(s.MessageId ?? ''))).toBe(true);
    expect(response.Failed ?? []).toEqual([]);
    await stack.sns.drained();
    // Channels are delivered side by side: each one in order, each entry once.
    expect(stack.delivered).toHaveLength(entries.length);
    expect(
      new Map(stack.delivered.map((r) => [envelope(r).MessageId, envelope(r).Message])),
    ).toEqual(new Map(response.Successful?.map((s, i) => [s.MessageId, entries[i]?.Message])));
    expect(await data(stack.eventLog, 'even')).toEqual(['m0', 'm2', 'm4', 'm6', 'm8']);
    expect(await data(stack.eventLog, 'odd')).toEqual(['m1', 'm3', 'm5', 'm7', 'm9']);
  });

  it('works end to end with the publisher SDK, in publish order, deduplicating dedupeIds', async () => {
    const stack = await startStack();
    const publisher = createPublisher({
      topicArn: TOPIC,
      clientConfig: {
        endpoint: `${stack.base}/sns`,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      },
    });
    const first = await publisher.publish('chat/room-1', 'hello', { event: 'chat.message' });
    expect(first.messageId).toMatch(UUID);
    const entries = Array.from({ length: 25 }, (_, i) => ({
      channel: `chat/room-${(i % 2) + 1}`,
      data: `line ${i}\nsecond line`,
    }));
    const result = await publisher.publishBatch(entries);
    expect(result.failed).toEqual([]);
    expect(result.successful.map((s) => s.index)).toEqual(entries.map((_, i) => i));
    await publisher.publish('chat/room-1', 'once', { dedupeId: 'd-1' });
    await publisher.publish('chat/room-1', 'once again', { dedupeId: 'd-1' });
    await stack.sns.drained();

    const expected = (room: string) => entries.filter((e) => e.channel === room).map((e) => e.data);
    expect(await data(stack.eventLog, 'chat/room-1')).toEqual([
      'hello',
      ...expected('chat/room-1'),
      'once',
    ]);
    expect(await data(stack.eventLog, 'chat/room-2')).toEqual(expected('chat/room-2'));
    const [hello] = await stack.eventLog.read('chat/room-1', 0, { limit: 1 });
    expect(hello?.event).toBe('chat.message');
  });

  it('accepts a message without channel, as SNS does, and the writer dead-letters it', async () => {
    const stack = await startStack();
    const client = stack.client();
    const orphan = await client.send(
      new PublishCommand({ TopicArn: TOPIC, Message: 'no channel' }),
    );
    expect(orphan.MessageId).toMatch(UUID);
    await client.send(
      new PublishCommand({ TopicArn: TOPIC, Message: 'fine', MessageAttributes: attrs('c') }),
    );
    await stack.sns.drained();
    expect(stack.delivered.map((r) => envelope(r).Message)).toEqual(['no channel', 'fine']);
    expect(stack.deadLetters.map((d) => d.rejection.code)).toEqual(['MISSING_CHANNEL']);
    expect(await data(stack.eventLog, 'c')).toEqual(['fine']);
  });

  it('passes other attributes through, binary ones as base64', async () => {
    const stack = await startStack();
    await stack.client().send(
      new PublishCommand({
        TopicArn: TOPIC,
        Message: 'x',
        Subject: 'Greetings',
        MessageAttributes: {
          ...attrs('c'),
          blob: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 255]) },
          tags: { DataType: 'String.Array', StringValue: '["a",1]' },
          count: { DataType: 'Number', StringValue: '12' },
        },
      }),
    );
    await stack.sns.drained();
    expect(envelope(stack.delivered[0])).toMatchObject({
      Subject: 'Greetings',
      MessageAttributes: {
        channel: { Type: 'String', Value: 'c' },
        blob: { Type: 'Binary', Value: 'AP8=' },
        tags: { Type: 'String.Array', Value: '["a",1]' },
        count: { Type: 'Number', Value: '12' },
      },
    });
  });

  it('has the message stored in the outbox table before Publish answers', async () => {
    const never: Deliver = async (records) => ({
      failedMessageIds: records.map((r) => r.messageId),
    });
    const stack = await startStack({ deliver: never });
    const response = await stack
      .client()
      .send(
        new PublishCommand({ TopicArn: TOPIC, Message: 'kept', MessageAttributes: attrs('c') }),
      );
    const page = await new OutboxTable({ client: dynamo, tableName: stack.tableName }).read({
      limit: 10,
    });
    expect(page.messages.map((m) => m.notification)).toMatchObject([
      { messageId: response.MessageId, message: 'kept', topicArn: TOPIC },
    ]);
  });

  it('retries failed deliveries until stored, losing and duplicating nothing', async () => {
    const eventLog = new FlakyEventLog();
    eventLog.failures.set('A', 3);
    const stack = await startStack({ eventLog });
    const publisher = createPublisher({ topicArn: TOPIC, client: stack.client() });
    const entries = Array.from({ length: 30 }, (_, i) => ({
      channel: ['A', 'B', 'C'][i % 3] ?? 'A',
      data: `d${i}`,
    }));
    for (const entry of entries.slice(0, 12)) await publisher.publish(entry.channel, entry.data);
    await publisher.publishBatch(entries.slice(12));
    await stack.sns.drained();
    for (const channel of ['A', 'B', 'C']) {
      expect(await data(eventLog, channel)).toEqual(
        entries.filter((e) => e.channel === channel).map((e) => e.data),
      );
    }
    // A's first messages were handed over more than once; the log holds them once.
    const deliveriesOfD0 = stack.delivered.filter((r) => envelope(r).Message === 'd0');
    expect(deliveriesOfD0.length).toBe(4);
    expect(
      await new OutboxTable({ client: dynamo, tableName: stack.tableName }).read({ limit: 10 }),
    ).toEqual({
      messages: [],
      next: undefined,
    });
  });

  it('drains, after a restart, what the last run left in the outbox table', async () => {
    const failing: Deliver = async (records) => ({
      failedMessageIds: records.map((r) => r.messageId),
    });
    const first = await startStack({ deliver: failing });
    const client = first.client();
    for (const i of [1, 2, 3, 4, 5]) {
      await client.send(
        new PublishCommand({
          TopicArn: TOPIC,
          Message: `left ${i}`,
          MessageAttributes: attrs('r'),
        }),
      );
    }
    await first.sns.stop();

    const second = await startStack({ tableName: first.tableName });
    await second.sns.drained();
    await second
      .client()
      .send(new PublishCommand({ TopicArn: TOPIC, Message: 'new', MessageAttributes: attrs('r') }));
    await second.sns.drained();
    expect(await data(second.eventLog, 'r')).toEqual([
      'left 1',
      'left 2',
      'left 3',
      'left 4',
      'left 5',
      'new',
    ]);
  });

  describe('errors, as real SNS gives them', () => {
    let stack: Stack;
    let client: SNSClient;

    beforeAll(async () => {
      stack = await startStack();
      client = stack.client({ maxAttempts: 1 });
      // Cleanups registered here belong to the whole group, not to its first test.
      const mine = cleanups.splice(0);
      afterAllCleanups.push(...mine);
    });

    const afterAllCleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const cleanup of afterAllCleanups.reverse()) await cleanup();
    });

    const publish = (input: Partial<PublishCommandInput>) =>
      client.send(new PublishCommand({ TopicArn: TOPIC, Message: 'm', ...input }));
    const batch = (entries: PublishBatchRequestEntry[], topicArn = TOPIC) =>
      client.send(
        new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: entries }),
      );
    const entries = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        Id: `e${i}`,
        Message: `m${i}`,
        MessageAttributes: attrs('c'),
      }));

    it.each([
      [
        'an unknown topic',
        () => publish({ TopicArn: `${TOPIC}-other` }),
        'NotFoundException',
        'Topic does not exist',
        404,
      ],
      [
        'a message over 256 KiB with its attributes',
        () => publish({ Message: 'x'.repeat(262_144 - 13), MessageAttributes: attrs('c') }),
        'InvalidParameterException',
        'Invalid parameter: Message too long',
        400,
      ],
      [
        'an empty message',
        () => publish({ Message: '' }),
        'InvalidParameterException',
        'Invalid parameter: Empty message',
        400,
      ],
      [
        'an attribute type SNS does not know',
        () => publish({ MessageAttributes: { channel: { DataType: 'Text', StringValue: 'c' } } }),
        'InvalidParameterValueException',
        "The message attribute 'channel' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.",
        400,
      ],
      [
        'eleven batch entries',
        () => batch(entries(11)),
        'TooManyEntriesInBatchRequestException',
        'The batch request contains more entries than permissible.',
        400,
      ],
      [
        'duplicate batch entry ids',
        () => batch([...entries(2), { Id: 'e0', Message: 'again' }]),
        'BatchEntryIdsNotDistinctException',
        'Two or more batch entries in the request have the same Id.',
        400,
      ],
      [
        'an empty batch',
        () => batch([]),
        'EmptyBatchRequestException',
        "The batch request doesn't contain any entries.",
        400,
      ],
      [
        'a batch over 256 KiB in all',
        () =>
          batch([
            { Id: 'a', Message: 'x'.repeat(200_000) },
            { Id: 'b', Message: 'y'.repeat(62_145) },
          ]),
        'BatchRequestTooLongException',
        'The length of all the messages put together is more than the limit.',
        400,
      ],
      [
        'a batch to an unknown topic',
        () => batch(entries(1), `${TOPIC}-other`),
        'NotFoundException',
        'Topic does not exist',
        404,
      ],
      [
        'a Number attribute that is not a number',
        () =>
          publish({
            MessageAttributes: { ...attrs('c'), price: { DataType: 'Number', StringValue: 'ten' } },
          }),
        'InvalidParameterValueException',
        "Could not cast message attribute 'price' value to number.",
        400,
      ],
      [
        'eleven message attributes',
        () =>
          publish({
            MessageAttributes: attrs(
              'c',
              Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, 'v'])),
            ),
          }),
        'InvalidParameterValueException',
        'Number of message attributes [11] exceeds the allowed maximum [10].',
        400,
      ],
      [
        'an attribute name with a reserved prefix',
        () => publish({ MessageAttributes: attrs('c', { 'aws.trace': 't' }) }),
        'InvalidParameterValueException',
        "Invalid message attribute name 'aws.trace' was found. Message attribute names can not start with the reserved prefixes 'AWS.' or 'Amazon.'.",
        400,
      ],
      [
        'a String.Array attribute that is not a JSON array',
        () =>
          publish({
            MessageAttributes: {
              ...attrs('c'),
              tags: { DataType: 'String.Array', StringValue: 'a,b' },
            },
          }),
        'InvalidParameterValueException',
        "The message attribute 'tags' with type 'String.Array' must be a JSON array of strings, numbers, booleans or null.",
        400,
      ],
      [
        'both TopicArn and TargetArn',
        () => publish({ TargetArn: TOPIC, MessageAttributes: attrs('c') }),
        'InvalidParameterException',
        'Invalid parameter: TopicArn or TargetArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be given',
        400,
      ],
      [
        'a batch with an entry whose Number attribute is not a number',
        () =>
          batch([
            ...entries(1),
            {
              Id: 'bad',
              Message: 'm',
              MessageAttributes: { ...attrs('c'), n: { DataType: 'Number', StringValue: '1..2' } },
            },
          ]),
        'InvalidParameterValueException',
        "Could not cast message attribute 'n' value to number.",
        400,
      ],
      [
        'an action it does not serve',
        () => client.send(new ListTopicsCommand({})),
        'InvalidAction',
        'The action ListTopics is not valid for this web service (this local endpoint supports Publish and PublishBatch).',
        400,
      ],
    ] as const)('refuses %s: %s', async (_, call, name, message, status) => {
      const before = stack.delivered.length;
      const error = await snsError(call());
      expect(error.name).toBe(name);
      expect(error.message).toBe(message);
      expect(error.$metadata.httpStatusCode).toBe(status);
      expect(error.$fault).toBe('client');
      await stack.sns.drained();
      expect(stack.delivered.length).toBe(before);
    });

    it('fails only the batch entry SNS refuses on its own, and publishes the rest', async () => {
      const response = await batch([
        { Id: 'ok1', Message: 'first', MessageAttributes: attrs('partial') },
        { Id: 'bad', Message: '', MessageAttributes: attrs('partial') },
        { Id: 'ok2', Message: 'second', MessageAttributes: attrs('partial') },
      ]);
      expect(response.Successful?.map((s) => s.Id)).toEqual(['ok1', 'ok2']);
      expect(response.Failed).toEqual([
        {
          Id: 'bad',
          Code: 'InvalidParameter',
          Message: 'Invalid parameter: Empty message',
          SenderFault: true,
        },
      ]);
      await stack.sns.drained();
      expect(await data(stack.eventLog, 'partial')).toEqual(['first', 'second']);
    });
  });

  describe('FIFO topic', () => {
    it('returns and delivers sequence numbers, and wants a MessageGroupId', async () => {
      const stack = await startStack({ topicArn: FIFO_TOPIC });
      const publisher = createPublisher({ topicArn: FIFO_TOPIC, client: stack.client() });
      const first = await publisher.publish('orders', 'one', { dedupeId: 'x' });
      const second = await publisher.publish('orders', 'two');
      expect(first.sequenceNumber).toMatch(/^\d{20}$/);
      expect(BigInt(second.sequenceNumber ?? '0')).toBeGreaterThan(
        BigInt(first.sequenceNumber ?? '0'),
      );
      await stack.sns.drained();
      const body = envelope(stack.delivered[0]);
      expect(body.SequenceNumber).toBe(first.sequenceNumber);
      expect(body).not.toHaveProperty('Signature');
      expect(await data(stack.eventLog, 'orders')).toEqual(['one', 'two']);

      const error = await snsError(
        stack
          .client({ maxAttempts: 1 })
          .send(new PublishCommand({ TopicArn: FIFO_TOPIC, Message: 'm' })),
      );
      expect(error.name).toBe('InvalidParameterException');
      expect(error.message).toBe(
        'Invalid parameter: The MessageGroupId parameter is required for FIFO topics',
      );
    });
  });
});

describe('Function: createSnsEndpoint (HTTP edges)', () => {
  async function endpoint(options: { maxBodyBytes?: number; outbox?: MemoryOutbox['add'] } = {}) {
    const outbox = new MemoryOutbox();
    const deliverer = new Deliverer({
      outbox,
      deliver: async () => ({ failedMessageIds: [] }),
      log: silent,
    });
    const errors: string[] = [];
    const handle = createSnsEndpoint({
      topicArn: TOPIC,
      outbox: { add: options.outbox ?? ((messages) => outbox.add(messages)) },
      deliverer,
      log: { info() {}, error: (message) => void errors.push(message) },
      ...(options.maxBodyBytes !== undefined && { maxBodyBytes: options.maxBodyBytes }),
    });
    const base = await serve(handle);
    return { base, outbox, errors };
  }

  /** What curl --aws-sigv4 or the SDK send; the endpoint checks the shape, not the signature. */
  const SIGV4 =
    'AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/sns/aws4_request, ' +
    'SignedHeaders=content-type;host;x-amz-date, Signature=0000000000000000';
  const form = (body: string | Uint8Array, authorization: string | null = SIGV4) => ({
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization !== null && { authorization }),
    },
    body,
  });
  const publishBody = (message: string) =>
    `Action=Publish&TopicArn=${encodeURIComponent(TOPIC)}&Message=${message}`;

  it('answers another method with 405 and SNS’s XML error shape', async () => {
    const { base } = await endpoint();
    const response = await fetch(`${base}/sns`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(response.headers.get('content-type')).toBe('text/xml');
    const text = await response.text();
    expect(text).toMatch(
      /^<ErrorResponse xmlns="http:\/\/sns\.amazonaws\.com\/doc\/2010-03-31\/"><Error><Type>Sender<\/Type><Code>MethodNotAllowed<\/Code><Message>.*<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
    );
    expect(text).toContain(response.headers.get('x-amzn-requestid') ?? 'missing');
  });

  it('serves /sns and /sns/ but no other path', async () => {
    const { base } = await endpoint();
    const body = `Action=Publish&TopicArn=${encodeURIComponent(TOPIC)}&Message=x`;
    expect((await fetch(`${base}/sns`, form(body))).status).toBe(200);
    expect((await fetch(`${base}/sns/?x=1`, form(body))).status).toBe(200);
    expect((await fetch(`${base}/other`, form(body))).status).toBe(404);
  });

  it('answers a body over the cap with 413, and keeps serving', async () => {
    const { base, outbox } = await endpoint({ maxBodyBytes: 1024 });
    const big = `Action=Publish&TopicArn=${encodeURIComponent(TOPIC)}&Message=${'x'.repeat(5000)}`;
    const response = await fetch(`${base}/sns`, form(big));
    expect(response.status).toBe(413);
    expect(await response.text()).toContain('<Code>RequestEntityTooLarge</Code>');
    expect(outbox.size).toBe(0);
    const small = `Action=Publish&TopicArn=${encodeURIComponent(TOPIC)}&Message=ok`;
    expect((await fetch(`${base}/sns`, form(small))).status).toBe(200);
  });

  it('refuses a request without an Authorization header with 403 MissingAuthenticationToken, storing nothing', async () => {
    const { base, outbox } = await endpoint({ maxBodyBytes: 1024 });
    // What a hidden cross-site HTML form can send: a form body and no Authorization.
    const response = await fetch(`${base}/sns`, form(publishBody('x'), null));
    expect(response.status).toBe(403);
    const text = await response.text();
    expect(text).toContain('<Type>Sender</Type><Code>MissingAuthenticationToken</Code>');
    expect(text).toContain('<Message>Request is missing Authentication Token</Message>');
    // Refused before the body is read: no 413 for an unsigned oversized body either.
    expect((await fetch(`${base}/sns`, form(publishBody('x'.repeat(5000)), null))).status).toBe(
      403,
    );
    expect(outbox.size).toBe(0);
    expect((await fetch(`${base}/sns`, form(publishBody('x')))).status).toBe(200);
    expect(outbox.size).toBe(1);
  });

  it.each([
    [
      'another scheme',
      'Bearer abc',
      "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=Bearer abc",
    ],
    [
      'a SigV4 header without SignedHeaders and Signature',
      'AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/sns/aws4_request',
      "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/sns/aws4_request",
    ],
  ])(
    'refuses an Authorization header of %s with IncompleteSignature',
    async (_, header, message) => {
      const { base, outbox } = await endpoint();
      const response = await fetch(`${base}/sns`, form(publishBody('x'), header));
      expect(response.status).toBe(400);
      const text = await response.text();
      expect(text).toContain('<Code>IncompleteSignature</Code>');
      expect(text).toContain(`<Message>${escapeXml(message)}</Message>`);
      expect(outbox.size).toBe(0);
    },
  );

  it('grants no CORS preflight, so a cross-origin page cannot add the header', async () => {
    const { base } = await endpoint();
    const response = await fetch(`${base}/sns`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://attacker.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-headers')).toBeNull();
  });

  it('refuses a Message that is not UTF-8, escaped or raw, instead of storing U+FFFD', async () => {
    const { base, outbox } = await endpoint();
    const escaped = await fetch(`${base}/sns`, form(publishBody('caf%E9')));
    expect(escaped.status).toBe(400);
    const text = await escaped.text();
    expect(text).toContain('<Code>InvalidParameter</Code>');
    expect(text).toContain(
      '<Message>Invalid parameter: Message Reason: the value is not valid UTF-8</Message>',
    );
    const raw = Buffer.concat([Buffer.from(publishBody('caf')), Buffer.from([0xe9])]);
    expect((await fetch(`${base}/sns`, form(raw))).status).toBe(400);
    expect(outbox.size).toBe(0);
    expect((await fetch(`${base}/sns`, form(publishBody('caf%C3%A9')))).status).toBe(200);
    expect(outbox.size).toBe(1);
  });

  it('answers garbage with MissingAction', async () => {
    const { base } = await endpoint();
    const response = await fetch(`${base}/sns`, form('\u0000%%%&&&==='));
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>MissingAction</Code>');
  });

  it('answers a store failure with InternalError, which the SDK sees as a server fault, and recovers', async () => {
    let failures = 1;
    const working = new MemoryOutbox();
    const { base, errors } = await endpoint({
      outbox: (messages) =>
        failures-- > 0 ? Promise.reject(new Error('disk full')) : working.add(messages),
    });
    const client = new SNSClient({
      endpoint: `${base}/sns`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    cleanups.push(async () => client.destroy());
    const error = await snsError(
      client.send(new PublishCommand({ TopicArn: TOPIC, Message: 'm' })),
    );
    expect(error.name).toBe('InternalErrorException');
    expect(error.$fault).toBe('server');
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(errors).toEqual(['SNS request failed']);
    const ok = await client.send(new PublishCommand({ TopicArn: TOPIC, Message: 'm' }));
    expect(ok.MessageId).toMatch(UUID);
    expect(working.size).toBe(1);
  });
});
