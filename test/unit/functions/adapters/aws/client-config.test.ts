import { createServer, type Server, type Socket } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../../../../functions/adapters/aws/client-config.js';
import { DynamoDBEventLog } from '../../../../../functions/adapters/dynamodb/event-log.js';

/** A "store" that accepts connections, reads the requests and never answers. */
function stalledEndpoint(): Promise<{ url: string; requests: () => number; server: Server }> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk) => {
      if (chunk.toString('latin1').startsWith('POST ')) requests += 1;
    });
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('close', () => {
    for (const socket of sockets) socket.destroy();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({ url: `http://127.0.0.1:${port}`, requests: () => requests, server });
    }),
  );
}

describe('Function: awsClientConfig', () => {
  let endpoint: Awaited<ReturnType<typeof stalledEndpoint>>;
  beforeAll(async () => {
    endpoint = await stalledEndpoint();
  });
  afterAll(() => {
    endpoint.server.close();
  });

  it('fails a call to a store that never answers, after the configured attempts', async () => {
    // Prepare
    const client = new DynamoDBClient({
      ...awsClientConfig({ connectionTimeoutMs: 1_000, requestTimeoutMs: 200, maxAttempts: 2 }),
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const eventLog = new DynamoDBEventLog({ client, tableName: 'stalled' });

    // Act
    const reading = eventLog.read('orders', 0);

    // Assess
    await expect(reading).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(endpoint.requests()).toBe(2);
    client.destroy();
  });

  it('turns the limits into the SDK client options', () => {
    expect(
      awsClientConfig({ connectionTimeoutMs: 1_500, requestTimeoutMs: 2_500, maxAttempts: 4 }),
    ).toEqual({
      maxAttempts: 4,
      requestHandler: {
        connectionTimeout: 1_500,
        requestTimeout: 2_500,
        throwOnRequestTimeout: true,
      },
    });
  });
});
