/**
 * The Web Function host as it runs on AWS, started here: `functions/handlers/web-server.ts`
 * bundled with the construct's esbuild options but for `node24` (the Web Function runtime,
 * `nodejs24.x`), run as a plain child process under Node 24 (`scripts/setup-node24.sh`),
 * listening on `AWS_LAMBDA_HTTP_ENDPOINT`. It is configured only through its environment
 * and talks to no one but its clients and DynamoDB, so everything the bench learns about
 * it comes from outside: the counting proxy, /proc, and the clients.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ENV } from '../../functions/config/environment.js';
import { ESBUILD_OPTIONS } from '../../lib/function-bundles.js';
import { watchChild } from './child-exit.js';
import { freePort } from './free-port.js';
import { sleep } from './stats.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = join(REPO, 'functions/handlers/web-server.ts');
const SETUP_NODE24 = join(REPO, 'scripts/setup-node24.sh');
/** The Web Function runtime's Node major version. */
const RUNTIME_TARGET = 'node24';
/** The revision timeout the bench gives the server: Web Functions allow up to 900 s. */
export const BENCH_REQUEST_TIMEOUT_SECONDS = 900;

export interface WebFunctionBundle {
  readonly file: string;
  readonly node: string;
  readonly nodeVersion: string;
  dispose(): void;
}

/** Installs Node 24 (idempotent) and builds the server bundle into a temporary folder. */
export async function buildWebFunction(): Promise<WebFunctionBundle> {
  const out = execFileSync('bash', [SETUP_NODE24], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const node = out.trim().split('\n').at(-1) ?? '';
  if (node === '') throw new Error('scripts/setup-node24.sh printed no node path');
  const nodeVersion = execFileSync(node, ['-v'], { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'sse-bench-web-function-'));
  const file = join(dir, 'index.mjs');
  await build({
    entryPoints: [ENTRY],
    ...ESBUILD_OPTIONS,
    target: RUNTIME_TARGET,
    mainFields: [...ESBUILD_OPTIONS.mainFields],
    outfile: file,
    logLevel: 'error',
  });
  return { file, node, nodeVersion, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface WebFunctionChild {
  readonly url: string;
  readonly pid: number;
  /** SIGTERM (the environment's retirement), then SIGKILL if it has not exited in 5 s. */
  stop(): Promise<void>;
}

function withChanges(
  env: Record<string, string>,
  changes: Readonly<Record<string, string | undefined>> | undefined,
): Record<string, string> {
  const out = { ...env };
  for (const [name, value] of Object.entries(changes ?? {})) {
    if (value === undefined) delete out[name];
    else out[name] = value;
  }
  return out;
}

/** Any HTTP answer means the server listens; connection errors mean not yet. */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/`, { method: 'GET', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Passes the server's error and warning log lines on; its info lines would be noise. */
function relayLogs(child: ChildProcess): void {
  if (child.stdout === null) return;
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (/"level":"(ERROR|WARN|CRITICAL)"/.test(line)) console.error(`[web function] ${line}`);
  });
}

export async function startWebFunction(
  bundle: WebFunctionBundle,
  options: {
    readonly dynamoEndpoint: string;
    readonly tableName: string;
    /** Changes to the revision's environment; `undefined` removes a variable. */
    readonly env?: Readonly<Record<string, string | undefined>>;
  },
): Promise<WebFunctionChild> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(bundle.node, [bundle.file], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // Only what a Web Function environment would hold; nothing of the bench's own.
    env: withChanges(
      {
        PATH: process.env.PATH ?? '',
        [ENV.lambdaHttpEndpoint]: `127.0.0.1:${port}`,
        [ENV.tableName]: options.tableName,
        [ENV.requestTimeoutSeconds]: String(BENCH_REQUEST_TIMEOUT_SECONDS),
        // As the construct deploys it: news from the change index, channels' own polls
        // only as the safety net.
        [ENV.changeIndexShards]: '1',
        [ENV.powertoolsServiceName]: 'sse-pubsub-web',
        AWS_ENDPOINT_URL_DYNAMODB: options.dynamoEndpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      options.env,
    ),
  });
  relayLogs(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error('the web function did not start');
  const { exited, exitCode } = watchChild(child);

  const deadline = Date.now() + 20_000;
  while (!(await answers(url))) {
    if (exitCode() !== undefined) throw new Error(`the web function exited (code ${exitCode()})`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the web function did not listen within 20 s');
    }
    await sleep(50);
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    pid,
    stop: () => {
      stopping ??= (async () => {
        if (exitCode() === undefined) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
