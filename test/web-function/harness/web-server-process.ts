/**
 * Starts the Web Function bundle the way Lambda does: `node <entry point>` in the
 * bundle's folder, on Node 24, with `AWS_LAMBDA_HTTP_ENDPOINT` naming where to listen and
 * the revision's environment. Ready once the server logs `listening`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface WebServerProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Its log lines (stdout and stderr), parsed when JSON. */
  lines(): readonly string[];
  /** Sends SIGTERM (the environment being retired); resolves with the exit code. */
  terminate(): Promise<number | null>;
  /** Ends it at once, if it still runs. */
  kill(): void;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startWebServer(options: {
  readonly nodeBin: string;
  readonly bundleDir: string;
  readonly entryPoint: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}): Promise<WebServerProcess> {
  const port = await freePort();
  const child = spawn(options.nodeBin, [join(options.bundleDir, options.entryPoint)], {
    cwd: options.bundleDir,
    // Only what Lambda would set and the revision's variables: not this process's env.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...options.environment,
      AWS_LAMBDA_HTTP_ENDPOINT: `127.0.0.1:${port}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    lines.push(...complete.filter((l) => l.trim() !== ''));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (!lines.some((l) => l.includes('"message":"listening"'))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the web server did not start:\n${lines.join('\n')}\n${partial}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    lines: () => lines,
    terminate: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
