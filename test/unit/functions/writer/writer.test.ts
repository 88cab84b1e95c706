import {
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDBEventLog } from '../../../../functions/adapters/dynamodb/event-log.js';
import { createWriterHandler } from '../../../../functions/adapters/sqs/writer-event-source.js';
import type { EventLog, StoredEvent } from '../../../../functions/core/event-log.js';
import type {
  DeadLetterSink,
  QueueRecord,
  Rejection,
  WriterMetrics,
} from '../../../../functions/writer/ports.js';
import { readAll } from '../../../contract/event-log-contract.js';
import { snsRecord, sqsEvent } from '../../../fixtures/sqs-events.js';
import { createEventLogTable, localDynamoClient } from '../../../support/dynamodb.js';

class RecordingDeadLetters implements DeadLetterSink {
  readonly sent: { messageId: string; code: string; field: string | undefined }[] = [];
  failFor = new Set<string>();
  async send(record: QueueRecord, rejection: Rejection): Promise<void> {
    if (this.failFor.has(record.messageId)) throw new Error('SQS unavailable');
    this.sent.push({ messageId: record.messageId, code: rejection.code, field: rejection.field });
  }
}

class RecordingMetrics implements WriterMetrics {
  readonly counts = { appended: 0, duplicates: 0, failed: 0 };
  readonly rejectedCodes: string[] = [];
  rejected(code: string): void {
    this.rejectedCodes.push(code);
  }
  appended(count: number): void {
    this.counts.appended += count;
  }
  duplicates(count: number): void {
    this.counts.duplicates += count;
  }
  failed(count: number): void {
    this.counts.failed += count;
  }
}

interface LogLine {
  level: 'info' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

const throttled = () =>
  Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: {},
  });

const conflict = () =>
  new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: {},
    CancellationReasons: [{ Code: 'TransactionConflict', Message: 'Transaction is ongoing' }],
  });

function failures(response: SQSBatchResponse): string[] {
  return response.batchItemFailures.map((f) => f.itemIdentifier);
}

function summary(events: readonly StoredEvent[]): [number, string, string][] {
  return events.map((e) => [e.position, e.event, e.data]);
}

describe('Function: writer handler', () => {
  let realClient: DynamoDBClient;
  let tableName: string;
  let channel: string;
  let deadLetters: RecordingDeadLetters;
  let metrics: RecordingMetrics;
  let logs: LogLine[];

  beforeAll(async () => {
    realClient = localDynamoClient();
    tableName = await createEventLogTable(realClient);
  });

  let run = 0;
  beforeEach(() => {
    run += 1;
    channel = `orders/${run}`;
    deadLetters = new RecordingDeadLetters();
    metrics = new RecordingMetrics();
    logs = [];
  });

  function eventLogOn(client: DynamoDBClient): EventLog {
    return new DynamoDBEventLog({
      client,
      tableName,
      maxAttempts: 4,
      sleep: async () => {},
    });
  }

  function writer(
    eventLog: EventLog = eventLogOn(realClient),
  ): (e: SQSEvent) => Promise<SQSBatchResponse> {
    return createWriterHandler({
      eventLog,
      deadLetters,
      metrics,
      log: {
        info: (message, fields) => logs.push({ level: 'info', message, fields }),
        error: (message, fields) => logs.push({ level: 'error', message, fields }),
      },
    });
  }

  const stored = (name = channel) => readAll(eventLogOn(realClient), name);

  /** A client whose calls reach DynamoDB Local unless a test makes one fail first. */
  function interceptedClient() {
    const client = localDynamoClient();
    const mock = mockClient(client);
    mock.on(GetItemCommand).callsFake((input) => realClient.send(new GetItemCommand(input)));
    mock.on(QueryCommand).callsFake((input) => realClient.send(new QueryCommand(input)));
    return { client, mock };
  }

  const passThrough = (input: TransactWriteItemsCommand['input']) =>
    realClient.send(new TransactWriteItemsCommand(input));

  describe('valid messages', () => {
    it('stores a message with its event name and payload verbatim', async () => {
      const response = await writer()(
        sqsEvent(
          snsRecord({
            sqsMessageId: 'q1',
            message: '{"orderId":42}\nsecond line',
            attributes: { channel, event: 'order.updated' },
          }),
          snsRecord({ sqsMessageId: 'q2', message: 'plain', attributes: { channel } }),
        ),
      );

      expect(failures(response)).toEqual([]);
      expect(summary(await stored())).toEqual([
        [1, 'order.updated', '{"orderId":42}\nsecond line'],
        [2, 'message', 'plain'],
      ]);
      expect(metrics.counts).toEqual({ appended: 2, duplicates: 0, failed: 0 });
      expect(deadLetters.sent).toEqual([]);
    });

    it('reads the recorded SNS → SQS fixture as AWS delivers it', async () => {
      const record = snsRecord({
        sqsMessageId: 'q1',
        message: '{"orderId":42,"status":"shipped"}',
        attributes: { channel, event: 'order.updated', unrelated: { Type: 'Number', Value: '7' } },
      });
      expect(failures(await writer()(sqsEvent(record)))).toEqual([]);
      expect(summary(await stored())).toEqual([
        [1, 'order.updated', '{"orderId":42,"status":"shipped"}'],
      ]);
    });
  });

  describe('invalid messages', () => {
    const cases: [
      string,
      Record<string, string | { Type: string; Value: string }>,
      string,
      string?,
    ][] = [
      ['an invalid channel', { channel: 'has space' }, 'INVALID_CHANNEL', 'channel'],
      ['a missing channel', { event: 'x' }, 'MISSING_CHANNEL', 'channel'],
      [
        'the reserved event name open',
        { channel: 'c', event: 'open' },
        'RESERVED_EVENT_NAME',
        'event',
      ],
      [
        'the reserved event name error',
        { channel: 'c', event: 'error' },
        'RESERVED_EVENT_NAME',
        'event',
      ],
      [
        'a reserved stream.* event name',
        { channel: 'c', event: 'stream.reset' },
        'RESERVED_EVENT_NAME',
        'event',
      ],
      [
        'an event name with a line break',
        { channel: 'c', event: 'a\nid: 1' },
        'INVALID_EVENT_NAME',
        'event',
      ],
      [
        'a Number channel attribute',
        { channel: { Type: 'Number', Value: '1' } },
        'INVALID_ATTRIBUTE_TYPE',
      ],
    ];

    it.each(cases)(
      'rejects %s to the dead-letter queue with its reason',
      async (_, attributes, code, field) => {
        const response = await writer()(
          sqsEvent(snsRecord({ sqsMessageId: 'bad', message: 'x', attributes })),
        );

        expect(failures(response)).toEqual([]); // handled: never retried
        expect(deadLetters.sent).toEqual([{ messageId: 'bad', code, field }]);
        expect(metrics.rejectedCodes).toEqual([code]);
        expect(logs).toEqual([
          {
            level: 'error',
            message: 'message rejected',
            fields: expect.objectContaining({
              reason: code,
              sqsMessageId: 'bad',
              detail: expect.any(String),
            }),
          },
        ]);
      },
    );

    it('rejects a payload over 256 KiB and stores one at the limit', async () => {
      const response = await writer()(
        sqsEvent(
          snsRecord({ sqsMessageId: 'big', message: 'x'.repeat(262_145), attributes: { channel } }),
          snsRecord({ sqsMessageId: 'max', message: 'y'.repeat(262_144), attributes: { channel } }),
        ),
      );

      expect(failures(response)).toEqual([]);
      expect(deadLetters.sent).toEqual([
        { messageId: 'big', code: 'PAYLOAD_TOO_LARGE', field: 'data' },
      ]);
      const events = await stored();
      expect(events.map((e) => e.data.length)).toEqual([262_144]);
    });

    it('rejects a body that is not an SNS notification (raw delivery on)', async () => {
      const raw = { ...snsRecord({ sqsMessageId: 'raw', message: 'x' }), body: 'hello' };
      expect(failures(await writer()(sqsEvent(raw)))).toEqual([]);
      expect(deadLetters.sent).toEqual([
        { messageId: 'raw', code: 'MALFORMED_ENVELOPE', field: undefined },
      ]);
    });

    it('returns a rejected message to the queue when the dead-letter queue cannot take it', async () => {
      deadLetters.failFor.add('bad');
      const response = await writer()(
        sqsEvent(
          snsRecord({ sqsMessageId: 'bad', message: 'x', attributes: { channel: '-bad' } }),
          snsRecord({ sqsMessageId: 'good', message: 'ok', attributes: { channel } }),
        ),
      );
      expect(failures(response)).toEqual(['bad']);
      expect(summary(await stored())).toEqual([[1, 'message', 'ok']]);
    });
  });

  describe('duplicates', () => {
    it('stores an SNS redelivery once (same MessageId, new SQS message)', async () => {
      const handler = writer();
      const first = snsRecord({
        sqsMessageId: 'q1',
        snsMessageId: 'sns-1',
        message: 'a',
        attributes: { channel },
      });
      const again = snsRecord({
        sqsMessageId: 'q2',
        snsMessageId: 'sns-1',
        message: 'a',
        attributes: { channel },
      });

      expect(failures(await handler(sqsEvent(first)))).toEqual([]);
      expect(failures(await handler(sqsEvent(again)))).toEqual([]);

      expect(summary(await stored())).toEqual([[1, 'message', 'a']]);
      expect(metrics.counts).toEqual({ appended: 1, duplicates: 1, failed: 0 });
    });

    it('stores two publishes with one dedupeId once, in one batch or across batches', async () => {
      const handler = writer();
      const publish = (sqsMessageId: string, data: string) =>
        snsRecord({ sqsMessageId, message: data, attributes: { channel, dedupeId: 'order-42' } });

      await handler(sqsEvent(publish('q1', 'first'), publish('q2', 'second')));
      await handler(sqsEvent(publish('q3', 'third')));

      expect(summary(await stored())).toEqual([[1, 'message', 'first']]);
      expect(metrics.counts.duplicates).toBe(2);
    });
  });

  describe('mixed batches', () => {
    it('stores every valid message in order per channel and rejects only the bad ones', async () => {
      const other = `${channel}-b`;
      const response = await writer()(
        sqsEvent(
          snsRecord({ sqsMessageId: 'm1', message: 'a1', attributes: { channel } }),
          snsRecord({ sqsMessageId: 'm2', message: 'x', attributes: { channel: 'bad channel' } }),
          snsRecord({
            sqsMessageId: 'm3',
            message: 'b1',
            attributes: { channel: other, event: 'e' },
          }),
          snsRecord({ sqsMessageId: 'm4', message: 'x', attributes: { channel, event: 'open' } }),
          snsRecord({ sqsMessageId: 'm5', message: 'a2', attributes: { channel } }),
          snsRecord({ sqsMessageId: 'm6', message: 'x', attributes: {} }),
          snsRecord({ sqsMessageId: 'm7', message: 'b2', attributes: { channel: other } }),
        ),
      );

      expect(failures(response)).toEqual([]);
      expect(summary(await stored())).toEqual([
        [1, 'message', 'a1'],
        [2, 'message', 'a2'],
      ]);
      expect(summary(await stored(other))).toEqual([
        [1, 'e', 'b1'],
        [2, 'message', 'b2'],
      ]);
      expect(deadLetters.sent).toEqual([
        { messageId: 'm2', code: 'INVALID_CHANNEL', field: 'channel' },
        { messageId: 'm4', code: 'RESERVED_EVENT_NAME', field: 'event' },
        { messageId: 'm6', code: 'MISSING_CHANNEL', field: 'channel' },
      ]);
    });
  });

  describe('storage errors (injected)', () => {
    it('retries throttling and stores every event once', async () => {
      const { client, mock } = interceptedClient();
      mock
        .on(TransactWriteItemsCommand)
        .rejectsOnce(throttled())
        .rejectsOnce(throttled())
        .callsFake(passThrough);

      const response = await writer(eventLogOn(client))(
        sqsEvent(
          snsRecord({ sqsMessageId: 'q1', message: 'a', attributes: { channel } }),
          snsRecord({ sqsMessageId: 'q2', message: 'b', attributes: { channel } }),
        ),
      );

      expect(failures(response)).toEqual([]);
      expect(mock.commandCalls(TransactWriteItemsCommand).length).toBe(3);
      expect(summary(await stored())).toEqual([
        [1, 'message', 'a'],
        [2, 'message', 'b'],
      ]);
    });

    it('retries a transaction cancelled by a conflict', async () => {
      const { client, mock } = interceptedClient();
      mock.on(TransactWriteItemsCommand).rejectsOnce(conflict()).callsFake(passThrough);

      const response = await writer(eventLogOn(client))(
        sqsEvent(snsRecord({ sqsMessageId: 'q1', message: 'a', attributes: { channel } })),
      );

      expect(failures(response)).toEqual([]);
      expect(summary(await stored())).toEqual([[1, 'message', 'a']]);
    });

    it('returns a throttled channel to the queue, stores the others, and loses nothing on redelivery', async () => {
      const other = `${channel}-ok`;
      const { client, mock } = interceptedClient();
      // Only the first channel's writes are throttled, whatever the retries.
      mock.on(TransactWriteItemsCommand).callsFake((input: TransactWriteItemsCommand['input']) => {
        const touchesChannel = JSON.stringify(input).includes(`"S":"${channel}"`);
        return touchesChannel ? Promise.reject(throttled()) : passThrough(input);
      });
      const batch = sqsEvent(
        snsRecord({ sqsMessageId: 'q1', message: 'a', attributes: { channel } }),
        snsRecord({ sqsMessageId: 'q2', message: 'x', attributes: { channel: other } }),
        snsRecord({ sqsMessageId: 'q3', message: 'b', attributes: { channel } }),
      );

      const response = await writer(eventLogOn(client))(batch);

      expect(failures(response)).toEqual(['q1', 'q3']);
      expect(metrics.counts.failed).toBe(2);
      expect(logs.filter((l) => l.level === 'error').map((l) => l.fields.channel)).toEqual([
        channel,
      ]);
      expect(await stored()).toEqual([]);
      expect(summary(await stored(other))).toEqual([[1, 'message', 'x']]);

      // SQS redelivers the whole batch once the throttling is over.
      const retry = await writer()(batch);
      expect(failures(retry)).toEqual([]);
      expect(summary(await stored())).toEqual([
        [1, 'message', 'a'],
        [2, 'message', 'b'],
      ]);
      expect(summary(await stored(other))).toEqual([[1, 'message', 'x']]);
    });

    it('returns only the unstored tail of a channel when an append stops part way', async () => {
      const { client, mock } = interceptedClient();
      // The first transaction commits; every later one is throttled.
      mock.on(TransactWriteItemsCommand).callsFakeOnce(passThrough).rejects(throttled());
      const records = Array.from({ length: 60 }, (_, i) =>
        snsRecord({ sqsMessageId: `q${i + 1}`, message: `e${i + 1}`, attributes: { channel } }),
      );

      const response = await writer(eventLogOn(client))(sqsEvent(...records));

      const storedFirst = await stored();
      const failed = failures(response);
      expect(storedFirst.length).toBeGreaterThan(0);
      expect(storedFirst.length).toBeLessThan(60);
      // Everything not stored, and nothing else, is handed back, in order.
      expect(failed).toEqual(records.slice(storedFirst.length).map((r) => r.messageId));

      const retry = await writer()(
        sqsEvent(...records.filter((r) => failed.includes(r.messageId))),
      );
      expect(failures(retry)).toEqual([]);
      expect((await stored()).map((e) => [e.position, e.data])).toEqual(
        records.map((_, i) => [i + 1, `e${i + 1}`]),
      );
    });
  });
});
