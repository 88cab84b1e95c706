import {
  SendMessageCommand,
  type SendMessageCommandInput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetterSink, QueueRecord, Rejection } from '../../writer/ports.js';

/**
 * Sends a rejected message to the dead-letter queue at once, with its reason as message
 * attributes, instead of letting SQS retry it until the redrive policy gives up.
 * The body is the original SQS body, so a fixed message can be replayed by hand.
 */
export class SqsDeadLetterSink implements DeadLetterSink {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(options: { client: SQSClient; queueUrl: string }) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
  }

  async send(record: QueueRecord, rejection: Rejection): Promise<void> {
    const input: SendMessageCommandInput = {
      QueueUrl: this.#queueUrl,
      MessageBody: record.body,
      MessageAttributes: {
        rejectReason: { DataType: 'String', StringValue: rejection.code },
        rejectDetail: { DataType: 'String', StringValue: rejection.message.slice(0, 1024) },
        sourceMessageId: { DataType: 'String', StringValue: record.messageId },
      },
    };
    // A FIFO dead-letter queue needs a group and a dedupe id; the source message id keeps
    // a resend of the same rejection from being stored twice.
    if (this.#queueUrl.endsWith('.fifo')) {
      input.MessageGroupId = 'rejected';
      input.MessageDeduplicationId = record.messageId;
    }
    await this.#client.send(new SendMessageCommand(input));
  }
}
