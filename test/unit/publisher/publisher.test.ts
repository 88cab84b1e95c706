import { createHash } from 'node:crypto';
import {
  PublishBatchCommand,
  type PublishBatchCommandInput,
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type BatchEntry,
  createPublisher,
  fifoDeduplicationId,
  InvalidMessageError,
  MAX_PAYLOAD_BYTES,
  PublisherConfigError,
  snsMessageSize,
} from '../../../publisher/index.js';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:events';
const FIFO_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:events.fifo';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const sns = mockClient(SNSClient);

/** Answers every PublishBatch call with success for each entry, like SNS does. */
function acceptAllBatches(): void {
  sns.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => ({
    Successful: (input.PublishBatchRequestEntries ?? []).map((e) => ({
      Id: e.Id,
      MessageId: `m-${e.Id}`,
    })),
    Failed: [],
  }));
}

function batchInputs(): PublishBatchCommandInput[] {
  return sns.commandCalls(PublishBatchCommand).map((call) => call.args[0].input);
}

function entries(count: number): BatchEntry[] {
  return Array.from({ length: count }, (_, i) => ({ channel: 'orders', data: `d${i}` }));
}

/** What a caller that ignores the types (plain JavaScript, parsed JSON) can pass. */
function untyped<T>(value: unknown): T {
  return value as T;
}

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

afterEach(() => {
  sns.reset();
});

describe('Function: createPublisher', () => {
  describe('Method: publish', () => {
    it('sends exactly TopicArn, Message and the channel attribute when nothing else is given', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN, client: new SNSClient({}) });
      const result = await publisher.publish('orders', '{"id":1}');
      expect(result).toEqual({ messageId: 'm-1' });
      expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
      expect(sns.commandCalls(PublishCommand)[0]?.args[0].input).toEqual({
        TopicArn: TOPIC_ARN,
        Message: '{"id":1}',
        MessageAttributes: { channel: { DataType: 'String', StringValue: 'orders' } },
      });
    });

    it('adds event and dedupeId attributes only when given', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      await publisher.publish('orders', 'a', { event: 'order.created' });
      await publisher.publish('orders', 'b', { dedupeId: 'order-42' });
      await publisher.publish('orders/eu', 'c', { event: 'message', dedupeId: 'x' });
      const inputs = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
      expect(inputs).toEqual([
        {
          TopicArn: TOPIC_ARN,
          Message: 'a',
          MessageAttributes: {
            channel: { DataType: 'String', StringValue: 'orders' },
            event: { DataType: 'String', StringValue: 'order.created' },
          },
        },
        {
          TopicArn: TOPIC_ARN,
          Message: 'b',
          MessageAttributes: {
            channel: { DataType: 'String', StringValue: 'orders' },
            dedupeId: { DataType: 'String', StringValue: 'order-42' },
          },
        },
        {
          TopicArn: TOPIC_ARN,
          Message: 'c',
          MessageAttributes: {
            channel: { DataType: 'String', StringValue: 'orders/eu' },
            event: { DataType: 'String', StringValue: 'message' },
            dedupeId: { DataType: 'String', StringValue: 'x' },
          },
        },
      ]);
    });

    it('treats an options object with undefined fields like no options', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      await publisher.publish('orders', 'a', { event: undefined, dedupeId: undefined });
      expect(sns.commandCalls(PublishCommand)[0]?.args[0].input).toEqual({
        TopicArn: TOPIC_ARN,
        Message: 'a',
        MessageAttributes: { channel: { DataType: 'String', StringValue: 'orders' } },
      });
    });

    it('sends the payload verbatim, line breaks and non-ASCII included', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      const data = 'line 1\r\nline 2\nid: forged\n\u00e9\u{1F600}';
      await publisher.publish('orders', data);
      expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toBe(data);
    });

    it('returns the sequence number SNS gives on FIFO topics', async () => {
      sns.on(PublishCommand).resolves({ MessageId: 'm-2', SequenceNumber: '10000000000000000001' });
      const publisher = createPublisher({ topicArn: FIFO_TOPIC_ARN });
      await expect(publisher.publish('orders', 'a')).resolves.toEqual({
        messageId: 'm-2',
        sequenceNumber: '10000000000000000001',
      });
    });

    it('on a FIFO topic uses the channel as group and channel#dedupeId as deduplication id', async () => {
      const publisher = createPublisher({ topicArn: FIFO_TOPIC_ARN });
      expect(publisher.fifo).toBe(true);
      await publisher.publish('orders/eu', 'a', { event: 'created', dedupeId: 'order-42' });
      expect(sns.commandCalls(PublishCommand)[0]?.args[0].input).toEqual({
        TopicArn: FIFO_TOPIC_ARN,
        Message: 'a',
        MessageAttributes: {
          channel: { DataType: 'String', StringValue: 'orders/eu' },
          event: { DataType: 'String', StringValue: 'created' },
          dedupeId: { DataType: 'String', StringValue: 'order-42' },
        },
        MessageGroupId: 'orders/eu',
        MessageDeduplicationId: 'orders/eu#order-42',
      });
    });

    it('on a FIFO topic gives the same dedupeId on two channels two deduplication ids', async () => {
      // A FIFO topic deduplicates topic-wide by default: a bare dedupeId would make SNS
      // accept and silently drop the second message, which the contract stores.
      const publisher = createPublisher({ topicArn: FIFO_TOPIC_ARN });
      await publisher.publish('orders', 'a', { dedupeId: '42' });
      await publisher.publish('invoices', 'b', { dedupeId: '42' });
      const ids = sns
        .commandCalls(PublishCommand)
        .map((c) => c.args[0].input.MessageDeduplicationId);
      expect(ids).toEqual(['orders#42', 'invoices#42']);
    });

    it('on a FIFO topic hashes a dedupeId SNS would refuse (too long, non-ASCII, spaces), deterministically', async () => {
      const publisher = createPublisher({ topicArn: FIFO_TOPIC_ARN });
      const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
      const long = 'x'.repeat(200);
      await publisher.publish('orders', 'a', { dedupeId: long });
      await publisher.publish('orders', 'b', { dedupeId: 'commande-n°7' });
      await publisher.publish('orders', 'c', { dedupeId: 'with space' });
      await publisher.publish('orders', 'd', { dedupeId: 'commande-n°7' });
      const inputs = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
      expect(inputs.map((i) => i.MessageDeduplicationId)).toEqual([
        sha256(`orders#${long}`),
        sha256('orders#commande-n°7'),
        sha256('orders#with space'),
        sha256('orders#commande-n°7'),
      ]);
      for (const input of inputs) expect(input.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
      // The attribute the writer deduplicates on is still the caller's own text.
      expect(inputs[1]?.MessageAttributes?.dedupeId?.StringValue).toBe('commande-n°7');
    });

    it('hashes when channel#dedupeId would pass 128 characters even if each part fits', () => {
      const channel = 'c'.repeat(100);
      const dedupeId = 'd'.repeat(27);
      expect(fifoDeduplicationId(channel, dedupeId)).toBe(`${channel}#${dedupeId}`);
      expect(fifoDeduplicationId(channel, `${dedupeId}d`)).toBe(
        createHash('sha256').update(`${channel}#${dedupeId}d`).digest('hex'),
      );
    });

    it('on a FIFO topic without dedupeId sends a fresh random UUID as deduplication id', async () => {
      const publisher = createPublisher({ topicArn: FIFO_TOPIC_ARN });
      await publisher.publish('orders', 'same');
      await publisher.publish('orders', 'same');
      const inputs = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
      expect(inputs[0]).toEqual({
        TopicArn: FIFO_TOPIC_ARN,
        Message: 'same',
        MessageAttributes: { channel: { DataType: 'String', StringValue: 'orders' } },
        MessageGroupId: 'orders',
        MessageDeduplicationId: expect.stringMatching(UUID),
      });
      expect(inputs[1]?.MessageDeduplicationId).toMatch(UUID);
      expect(inputs[1]?.MessageDeduplicationId).not.toBe(inputs[0]?.MessageDeduplicationId);
    });

    it('on a standard topic sends no FIFO fields', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      expect(publisher.fifo).toBe(false);
      await publisher.publish('orders', 'a', { dedupeId: 'k' });
      const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
      expect(input).not.toHaveProperty('MessageGroupId');
      expect(input).not.toHaveProperty('MessageDeduplicationId');
    });

    it.each([
      ['an invalid channel', ['bad channel!', 'x'], 'INVALID_CHANNEL', 'channel', '"bad channel!"'],
      [
        'a channel starting with punctuation',
        ['-orders', 'x'],
        'INVALID_CHANNEL',
        'channel',
        '"-orders"',
      ],
      [
        'a channel over 128 characters',
        ['a'.repeat(129), 'x'],
        'INVALID_CHANNEL',
        'channel',
        'channel',
      ],
      ['a missing channel', [undefined, 'x'], 'MISSING_CHANNEL', 'channel', 'undefined'],
      ['an empty channel', ['', 'x'], 'MISSING_CHANNEL', 'channel', '""'],
      ['a null channel', [null, 'x'], 'MISSING_CHANNEL', 'channel', 'null'],
      ['a number as channel', [42, 'x'], 'INVALID_CHANNEL', 'channel', 'number 42'],
      [
        'the reserved event "open"',
        ['c', 'x', { event: 'open' }],
        'RESERVED_EVENT_NAME',
        'event',
        '"open"',
      ],
      [
        'the reserved event "error"',
        ['c', 'x', { event: 'error' }],
        'RESERVED_EVENT_NAME',
        'event',
        '"error"',
      ],
      [
        'a reserved stream.* event',
        ['c', 'x', { event: 'stream.reset' }],
        'RESERVED_EVENT_NAME',
        'event',
        '"stream.reset"',
      ],
      [
        'a bad event name',
        ['c', 'x', { event: 'has space' }],
        'INVALID_EVENT_NAME',
        'event',
        '"has space"',
      ],
      ['an empty event name', ['c', 'x', { event: '' }], 'INVALID_EVENT_NAME', 'event', '""'],
      ['a non-string event', ['c', 'x', { event: 7 }], 'INVALID_EVENT_NAME', 'event', 'number 7'],
      ['an empty dedupeId', ['c', 'x', { dedupeId: '' }], 'INVALID_DEDUPE_ID', 'dedupeId', '""'],
      [
        'a dedupeId with a control character',
        ['c', 'x', { dedupeId: 'a\nb' }],
        'INVALID_DEDUPE_ID',
        'dedupeId',
        '"a\\nb"',
      ],
      [
        'a dedupeId over 256 bytes',
        ['c', 'x', { dedupeId: 'é'.repeat(129) }],
        'INVALID_DEDUPE_ID',
        'dedupeId',
        '"éé',
      ],
      [
        'a non-string dedupeId',
        ['c', 'x', { dedupeId: 12 }],
        'INVALID_DEDUPE_ID',
        'dedupeId',
        'number 12',
      ],
      ['an object as data', ['c', { a: 1 }], 'INVALID_PAYLOAD', 'data', 'an object'],
      ['a number as data', ['c', 5], 'INVALID_PAYLOAD', 'data', 'number 5'],
      ['undefined data', ['c', undefined], 'INVALID_PAYLOAD', 'data', 'undefined'],
      [
        'data with a lone surrogate',
        ['c', 'a\uD800b'],
        'INVALID_PAYLOAD',
        'data',
        'lone surrogate',
      ],
    ])(
      'throws InvalidMessageError for %s and does not call SNS',
      async (_, args, code, field, shown) => {
        const publisher = createPublisher({ topicArn: TOPIC_ARN });
        const [channel, data, options] = args as [string, string, { event?: string } | undefined];
        const error = await publisher.publish(channel, data, options).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidMessageError);
        expect(error).toMatchObject({ name: 'InvalidMessageError', code, field, index: undefined });
        expect((error as Error).message).toContain(field);
        expect((error as Error).message).toContain(shown);
        expect(sns.calls()).toHaveLength(0);
      },
    );

    it('throws PAYLOAD_TOO_LARGE for data over maxPayloadBytes, naming the size', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN, maxPayloadBytes: 1000 });
      await expect(publisher.publish('c', 'é'.repeat(501))).rejects.toMatchObject({
        name: 'InvalidMessageError',
        code: 'PAYLOAD_TOO_LARGE',
        field: 'data',
        message: expect.stringContaining('1002 bytes'),
      });
      await publisher.publish('c', 'é'.repeat(500));
      expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    });

    it('counts attribute names, types and values against the 256 KiB SNS limit', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      const attributes = {
        channel: { DataType: 'String', StringValue: 'orders' },
        event: { DataType: 'String', StringValue: 'created' },
      };
      // channel(7) + String(6) + orders(6) + event(5) + String(6) + created(7)
      const overhead = snsMessageSize('', attributes);
      expect(overhead).toBe(37);
      const fits = 'x'.repeat(MAX_PAYLOAD_BYTES - overhead);
      const tooBig = `${fits}x`;

      const error = await publisher
        .publish('orders', tooBig, { event: 'created' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidMessageError);
      expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'data' });
      expect((error as Error).message).toContain(`${MAX_PAYLOAD_BYTES + 1} bytes`);
      expect(sns.calls()).toHaveLength(0);

      await publisher.publish('orders', fits, { event: 'created' });
      expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    });

    it('refuses a payload of exactly 256 KiB, since its attributes push it over', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      await expect(publisher.publish('c', 'x'.repeat(MAX_PAYLOAD_BYTES))).rejects.toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
      });
      await expect(
        publisher.publish('c', 'x'.repeat(MAX_PAYLOAD_BYTES + 1)),
      ).rejects.toBeInstanceOf(InvalidMessageError);
      expect(sns.calls()).toHaveLength(0);
    });

    it('lets an SDK error through as thrown', async () => {
      const failure = Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' });
      sns.on(PublishCommand).rejects(failure);
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      await expect(publisher.publish('c', 'x')).rejects.toBe(failure);
    });

    it('throws when the endpoint answers without a MessageId', async () => {
      sns.on(PublishCommand).resolves({});
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      await expect(publisher.publish('c', 'x')).rejects.toThrow(/MessageId/);
    });
  });

  describe('Options', () => {
    it('throws PublisherConfigError when both client and clientConfig are given', () => {
      expect(() =>
        createPublisher({
          topicArn: TOPIC_ARN,
          client: new SNSClient({}),
          clientConfig: { region: 'us-east-1' },
        }),
      ).toThrow(
        expect.objectContaining({
          name: 'PublisherConfigError',
          code: 'CONFLICTING_CLIENT_OPTIONS',
          option: 'client',
        }),
      );
      expect(sns.calls()).toHaveLength(0);
    });

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['a topic name', 'events'],
      ['an SQS ARN', 'arn:aws:sqs:us-east-1:123456789012:events'],
      ['a short account', 'arn:aws:sns:us-east-1:1234:events'],
      ['a bad topic name', 'arn:aws:sns:us-east-1:123456789012:my events'],
      ['a subscription ARN', `${TOPIC_ARN}:0f6c3c2e-7b8b-4a8e-9d7e-2f1d2a5b3c4d`],
      ['a topic name over 256 characters', `arn:aws:sns:us-east-1:123456789012:${'t'.repeat(257)}`],
    ])('throws PublisherConfigError for a topicArn that is %s', (_, topicArn) => {
      const error = (() => {
        try {
          createPublisher({ topicArn: untyped<string>(topicArn) });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(PublisherConfigError);
      expect(error).toMatchObject({
        name: 'PublisherConfigError',
        code: 'INVALID_TOPIC_ARN',
        option: 'topicArn',
      });
      expect((error as Error).message).toContain('topicArn');
      expect(sns.calls()).toHaveLength(0);
    });

    it.each([
      'arn:aws:sns:us-east-1:123456789012:events',
      'arn:aws:sns:eu-west-3:123456789012:my_topic-1.fifo',
      'arn:aws-cn:sns:cn-north-1:123456789012:events',
      'arn:aws-us-gov:sns:us-gov-west-1:123456789012:events',
      `arn:aws:sns:us-east-1:123456789012:${'t'.repeat(256)}`,
    ])('accepts the topic ARN %s', (topicArn) => {
      expect(createPublisher({ topicArn }).topicArn).toBe(topicArn);
    });

    it.each([0, -1, 1.5, MAX_PAYLOAD_BYTES + 1, '100'])(
      'throws PublisherConfigError for maxPayloadBytes %s',
      (maxPayloadBytes) => {
        expect(() =>
          createPublisher({
            topicArn: TOPIC_ARN,
            maxPayloadBytes: untyped<number>(maxPayloadBytes),
          }),
        ).toThrow(expect.objectContaining({ code: 'INVALID_MAX_PAYLOAD_BYTES' }));
      },
    );

    it('creates its own client from clientConfig, or a default one', async () => {
      // mockClient(SNSClient) intercepts every instance, including the ones made inside.
      await createPublisher({
        topicArn: TOPIC_ARN,
        clientConfig: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:8787/sns' },
      }).publish('c', 'x');
      await createPublisher({ topicArn: TOPIC_ARN }).publish('c', 'y');
      const calls = sns.commandCalls(PublishCommand);
      expect(calls.map((c) => c.args[0].input.Message)).toEqual(['x', 'y']);
      expect(await calls[0]?.thisValue.config.region()).toBe('eu-west-1');
    });
  });

  describe('Method: publishBatch', () => {
    beforeEach(acceptAllBatches);

    it('resolves an empty array to empty results without calling SNS', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      await expect(publisher.publishBatch([])).resolves.toEqual({ successful: [], failed: [] });
      expect(sns.calls()).toHaveLength(0);
    });

    it('sends exact entries with their index as Id', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      const result = await publisher.publishBatch([
        { channel: 'orders', data: 'a' },
        { channel: 'orders', data: 'b', event: 'created', dedupeId: 'k1' },
      ]);
      expect(batchInputs()).toEqual([
        {
          TopicArn: TOPIC_ARN,
          PublishBatchRequestEntries: [
            {
              Id: '0',
              Message: 'a',
              MessageAttributes: { channel: { DataType: 'String', StringValue: 'orders' } },
            },
            {
              Id: '1',
              Message: 'b',
              MessageAttributes: {
                channel: { DataType: 'String', StringValue: 'orders' },
                event: { DataType: 'String', StringValue: 'created' },
                dedupeId: { DataType: 'String', StringValue: 'k1' },
              },
            },
          ],
        },
      ]);
      expect(result).toEqual({
        successful: [
          { index: 0, messageId: 'm-0' },
          { index: 1, messageId: 'm-1' },
        ],
        failed: [],
      });
    });

    it('sends FIFO group and deduplication ids per entry', async () => {
      const publisher = createPublisher({ topicArn: FIFO_TOPIC_ARN });
      await publisher.publishBatch([
        { channel: 'a', data: '1', dedupeId: 'k' },
        { channel: 'b', data: '2' },
      ]);
      expect(batchInputs()[0]?.PublishBatchRequestEntries).toEqual([
        {
          Id: '0',
          Message: '1',
          MessageAttributes: {
            channel: { DataType: 'String', StringValue: 'a' },
            dedupeId: { DataType: 'String', StringValue: 'k' },
          },
          MessageGroupId: 'a',
          MessageDeduplicationId: 'a#k',
        },
        {
          Id: '1',
          Message: '2',
          MessageAttributes: { channel: { DataType: 'String', StringValue: 'b' } },
          MessageGroupId: 'b',
          MessageDeduplicationId: expect.stringMatching(UUID),
        },
      ]);
    });

    it('splits 23 entries into calls of 10, 10 and 3, in order, Ids being the global index', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      const result = await publisher.publishBatch(entries(23));
      const calls = batchInputs();
      expect(calls.map((c) => c.PublishBatchRequestEntries?.length)).toEqual([10, 10, 3]);
      expect(calls.flatMap((c) => c.PublishBatchRequestEntries?.map((e) => e.Id))).toEqual(
        Array.from({ length: 23 }, (_, i) => String(i)),
      );
      expect(calls.flatMap((c) => c.PublishBatchRequestEntries?.map((e) => e.Message))).toEqual(
        Array.from({ length: 23 }, (_, i) => `d${i}`),
      );
      expect(result.successful.map((s) => s.index)).toEqual(
        Array.from({ length: 23 }, (_, i) => i),
      );
      expect(result.failed).toEqual([]);
    });

    it('splits by size so no call carries more than 256 KiB', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      const big = 'x'.repeat(100 * 1024);
      const batch: BatchEntry[] = [
        { channel: 'c', data: big },
        { channel: 'c', data: big },
        { channel: 'c', data: big },
        { channel: 'c', data: 'small' },
        { channel: 'c', data: big },
        { channel: 'c', data: 'x'.repeat(MAX_PAYLOAD_BYTES - 20) },
      ];
      const result = await publisher.publishBatch(batch);
      const calls = batchInputs();
      expect(calls.map((c) => c.PublishBatchRequestEntries?.map((e) => e.Id))).toEqual([
        ['0', '1'],
        ['2', '3', '4'],
        ['5'],
      ]);
      for (const call of calls) {
        const size = (call.PublishBatchRequestEntries ?? []).reduce(
          (sum, e) => sum + snsMessageSize(e.Message ?? '', e.MessageAttributes ?? {}),
          0,
        );
        expect(size).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      }
      expect(result.successful).toHaveLength(6);
    });

    it('maps Failed entries back to the caller indexes across chunks', async () => {
      sns.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => {
        const all = input.PublishBatchRequestEntries ?? [];
        const fails = (id: string | undefined): boolean => id === '3' || id === '12';
        return {
          Successful: all
            .filter((e) => !fails(e.Id))
            .map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
          Failed: all
            .filter((e) => fails(e.Id))
            .map((e) =>
              e.Id === '3'
                ? { Id: e.Id, Code: 'InternalError', Message: 'try again', SenderFault: false }
                : { Id: e.Id, Code: 'InvalidParameter', Message: 'bad', SenderFault: true },
            ),
        };
      });
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      const result = await publisher.publishBatch(entries(15));
      expect(result.failed).toEqual([
        { index: 3, code: 'InternalError', message: 'try again', senderFault: false },
        { index: 12, code: 'InvalidParameter', message: 'bad', senderFault: true },
      ]);
      expect(result.successful.map((s) => s.index)).toEqual([
        0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14,
      ]);
      expect(result.successful[3]).toEqual({ index: 4, messageId: 'm-4' });
    });

    it('returns sequence numbers of FIFO batch entries', async () => {
      sns.on(PublishBatchCommand).resolves({
        Successful: [{ Id: '0', MessageId: 'm-0', SequenceNumber: '7' }],
      });
      const publisher = createPublisher({ topicArn: FIFO_TOPIC_ARN });
      await expect(publisher.publishBatch([{ channel: 'c', data: 'x' }])).resolves.toEqual({
        successful: [{ index: 0, messageId: 'm-0', sequenceNumber: '7' }],
        failed: [],
      });
    });

    it('reports an entry SNS answered neither way as failed, never as published', async () => {
      sns.on(PublishBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm-0' }] });
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      const result = await publisher.publishBatch(entries(2));
      expect(result).toEqual({
        successful: [{ index: 0, messageId: 'm-0' }],
        failed: [
          { index: 1, code: 'MissingResult', message: expect.any(String), senderFault: false },
        ],
      });
    });

    it('validates every entry first: one bad entry throws with its index and sends nothing', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      const batch = entries(25);
      batch[17] = { channel: 'orders', data: 'x', event: 'stream.reset' };
      const error = await publisher.publishBatch(batch).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidMessageError);
      expect(error).toMatchObject({ code: 'RESERVED_EVENT_NAME', field: 'event', index: 17 });
      expect((error as Error).message).toMatch(/^entry 17: .*"stream\.reset"/);
      expect(sns.calls()).toHaveLength(0);
    });

    it.each([
      ['a missing channel', { data: 'x' }, 'MISSING_CHANNEL'],
      ['non-string data', { channel: 'c', data: { a: 1 } }, 'INVALID_PAYLOAD'],
      [
        'an oversize payload',
        { channel: 'c', data: 'x'.repeat(MAX_PAYLOAD_BYTES) },
        'PAYLOAD_TOO_LARGE',
      ],
      ['a bad dedupeId', { channel: 'c', data: 'x', dedupeId: '' }, 'INVALID_DEDUPE_ID'],
    ])('refuses the whole batch for %s', async (_, bad, code) => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      const batch = [...entries(3), untyped<BatchEntry>(bad)];
      await expect(publisher.publishBatch(batch)).rejects.toMatchObject({
        name: 'InvalidMessageError',
        code,
        index: 3,
      });
      expect(sns.calls()).toHaveLength(0);
    });

    it('throws a TypeError for a non-array or a non-object entry, sending nothing', async () => {
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      await expect(publisher.publishBatch(untyped<BatchEntry[]>('nope'))).rejects.toThrow(
        TypeError,
      );
      await expect(
        publisher.publishBatch(untyped<BatchEntry[]>([{ channel: 'c', data: 'x' }, null])),
      ).rejects.toThrow(/entry 1/);
      expect(sns.calls()).toHaveLength(0);
    });

    it('lets an SDK error through and sends no later chunk', async () => {
      const failure = new Error('AuthorizationError');
      sns.on(PublishBatchCommand).rejectsOnce(failure);
      const publisher = createPublisher({ topicArn: TOPIC_ARN });
      await expect(publisher.publishBatch(entries(15))).rejects.toBe(failure);
      expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(1);
    });
  });
});
