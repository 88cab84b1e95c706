/**
 * `verify` against the Web Function bundle under Node 24, as a deployment's users run it:
 * it publishes through an SNS endpoint whose writer, in this process, appends to the
 * table the bundle reads (and records the change index, as the deployed writer does).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleSnsRequest } from '../../bench/lib/sns-endpoint.js';
import { main } from '../../cli/main.js';
import { DynamoDBChangeIndex } from '../../functions/adapters/dynamodb/change-index.js';
import { DynamoDBEventLog } from '../../functions/adapters/dynamodb/event-log.js';
import { capturedIo } from '../support/cli-io.js';
import { createEventLogTable, localDynamoClient } from '../support/dynamodb.js';
import type { WebServerProcess } from './harness/web-server-process.js';
import { harnessContext, revisionEnvironment, startBundle } from './support.js';

describe('Feature: verify passes against the Web Function bundle', () => {
  let client: DynamoDBClient;
  let server: WebServerProcess;
  let sns: Server;
  let snsUrl: string;

  beforeAll(async () => {
    client = localDynamoClient();
    const tableName = await createEventLogTable(client);
    const shards = harnessContext().webFunction.environment.CHANGE_INDEX_SHARDS;
    const writer = new DynamoDBEventLog({
      client,
      tableName,
      ...(shards !== undefined && {
        changes: new DynamoDBChangeIndex({ client, tableName, shards: Number(shards) }),
      }),
    });
    sns = createServer((req, res) => {
      void handleSnsRequest(req, res, async (message) => {
        await writer.append(message.channel, [
          { event: message.event, data: message.data, dedupeKey: randomUUID() },
        ]);
        return true;
      });
    });
    await new Promise<void>((resolve) => sns.listen(0, '127.0.0.1', resolve));
    snsUrl = `http://127.0.0.1:${(sns.address() as AddressInfo).port}/sns`;
    server = await startBundle(revisionEnvironment({ TABLE_NAME: tableName }));
  });

  afterAll(async () => {
    server?.kill();
    await new Promise<void>((resolve) => sns?.close(() => resolve()));
    client?.destroy();
  });

  it('passes every check it can run with the revision’s defaults', async () => {
    // Prepare
    const lines: string[] = [];
    const heartbeat = harnessContext().webFunction.environment.HEARTBEAT_SECONDS ?? '15';

    // Act
    const code = await main(
      [
        'verify',
        '--url',
        server.url,
        '--endpoint',
        snsUrl,
        '--heartbeat-seconds',
        String(heartbeat),
      ],
      capturedIo(lines),
    );

    // Assess: no CORS origin and no private prefix in the default revision, so those skip
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(code).toBe(0);
    expect(lines.join('\n')).toMatch(/\n10 passed, 0 failed, 4 skipped$/);
    for (const check of ['sse.resume', 'framing', 'errors', 'sse.heartbeat']) {
      expect(
        lines.some((l) => new RegExp(`^PASS\\s+${check.replace('.', '\\.')}\\s`).test(l)),
      ).toBe(true);
    }
  }, 120_000);
});
