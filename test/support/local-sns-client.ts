import { SNSClient } from '@aws-sdk/client-sns';

/** The real AWS SDK client pointed at a local stack's `/sns` (any credentials work). */
export function localSnsClient(baseUrl: string): SNSClient {
  return new SNSClient({
    endpoint: `${baseUrl}/sns`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
}
