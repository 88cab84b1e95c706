import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';

/** The real AWS SDK client pointed at a local stack's `/sns` (any credentials work). */
export function localSnsClient(baseUrl: string): SNSClient {
  return new SNSClient({
    endpoint: `${baseUrl}/sns`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
}

/** Publishes `messages` to one channel in order, in batches of 10, one batch at a time. */
export async function publishInOrder(
  sns: SNSClient,
  topicArn: string,
  channel: string,
  messages: readonly string[],
): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    await sns.send(
      new PublishBatchCommand({
        TopicArn: topicArn,
        PublishBatchRequestEntries: messages.slice(start, start + 10).map((data, i) => ({
          Id: `e${start + i}`,
          Message: data,
          MessageAttributes: { channel: { DataType: 'String', StringValue: channel } },
        })),
      }),
    );
  }
}
