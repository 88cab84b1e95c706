import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { SqsDeadLetterSink } from '../../../../../functions/adapters/sqs/dead-letter-sink.js';

describe('Class: SqsDeadLetterSink', () => {
  const record = { messageId: 'sqs-1', body: '{"Type":"Notification"}' };
  const rejection = {
    code: 'INVALID_CHANNEL',
    field: 'channel',
    message: 'channel "a b" must match …',
  };

  it('sends the original body with the reason as attributes', async () => {
    const client = new SQSClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });

    await new SqsDeadLetterSink({ client, queueUrl: 'https://sqs.local/123/dlq' }).send(
      record,
      rejection,
    );

    expect(mock.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({
      QueueUrl: 'https://sqs.local/123/dlq',
      MessageBody: record.body,
      MessageAttributes: {
        rejectReason: { DataType: 'String', StringValue: 'INVALID_CHANNEL' },
        rejectDetail: { DataType: 'String', StringValue: rejection.message },
        sourceMessageId: { DataType: 'String', StringValue: 'sqs-1' },
      },
    });
  });

  it('adds a group and a dedupe id for a FIFO dead-letter queue', async () => {
    const client = new SQSClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock.on(SendMessageCommand).resolves({});

    await new SqsDeadLetterSink({ client, queueUrl: 'https://sqs.local/123/dlq.fifo' }).send(
      record,
      rejection,
    );

    expect(mock.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({
      MessageGroupId: 'rejected',
      MessageDeduplicationId: 'sqs-1',
    });
  });

  it('lets a send failure reach the caller, which returns the message to the queue', async () => {
    const client = new SQSClient({ region: 'us-east-1' });
    mockClient(client).on(SendMessageCommand).rejects(new Error('throttled'));
    await expect(
      new SqsDeadLetterSink({ client, queueUrl: 'https://sqs.local/123/dlq' }).send(
        record,
        rejection,
      ),
    ).rejects.toThrow('throttled');
  });
});
