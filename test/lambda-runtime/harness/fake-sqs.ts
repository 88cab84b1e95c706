/**
 * Just enough of SQS's JSON protocol (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.SendMessage`)
 * for the writer's dead-letter sink, on 127.0.0.1. The SDK checks `MD5OfMessageBody`, so
 * the answer carries the real one. `refuse` decides which messages get a 400 instead.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedMessage {
  readonly queueUrl: string;
  readonly body: string;
  readonly attributes: Record<string, { DataType: string; StringValue?: string }>;
  readonly refused: boolean;
}

export interface FakeSqs {
  /** Use as `AWS_ENDPOINT_URL_SQS`. */
  readonly endpoint: string;
  /** A queue URL on this endpoint. */
  queueUrl(name: string): string;
  readonly messages: readonly ReceivedMessage[];
  close(): Promise<void>;
}

export async function startFakeSqs(
  refuse: (message: Omit<ReceivedMessage, 'refused'>) => boolean = () => false,
): Promise<FakeSqs> {
  const messages: ReceivedMessage[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = req.headers['x-amz-target'];
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': Buffer.byteLength(text),
        'x-amzn-requestid': randomUUID(),
        ...headers,
      });
      res.end(text);
    };
    if (target !== 'AmazonSQS.SendMessage') {
      reply(400, {
        __type: 'com.amazonaws.sqs#UnsupportedOperation',
        message: `${String(target)} is not supported here`,
      });
      return;
    }
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      QueueUrl: string;
      MessageBody: string;
      MessageAttributes?: Record<string, { DataType: string; StringValue?: string }>;
    };
    const message = {
      queueUrl: input.QueueUrl,
      body: input.MessageBody,
      attributes: input.MessageAttributes ?? {},
    };
    const refused = refuse(message);
    messages.push({ ...message, refused });
    if (refused) {
      reply(
        400,
        { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'refused by the test' },
        { 'x-amzn-query-error': 'InvalidParameterValue;Sender' },
      );
      return;
    }
    reply(200, {
      MessageId: randomUUID(),
      MD5OfMessageBody: createHash('md5').update(input.MessageBody, 'utf8').digest('hex'),
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    queueUrl: (name) => `${endpoint}/123456789012/${name}`,
    messages,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
