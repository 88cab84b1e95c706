/**
 * Command-line tool: publish to a channel, tail channels, verify a stack. Against the local stack
 * (`npm start`) by default, or a deployed stack with `--topic-arn` / `--url`.
 *
 *     npx tsx cli/main.ts publish demo 'hello'
 *     npx tsx cli/main.ts tail demo --from earliest
 *
 * `main` does the work and returns the exit code; the process wiring (signals, stdin,
 * colours, a closed stdout) is only at the bottom, so tests call `main` directly.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CliEnv, parseCommandLine, UsageError } from './args.js';
import { type PublishIo, runPublish } from './publish.js';
import { runTail, type TailIo } from './tail.js';
import { runVerify } from './verify/run.js';

export interface MainIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: CliEnv;
  readonly readStdin: PublishIo['readStdin'];
  /** Whether stdout wants ANSI colours. */
  readonly color: boolean;
  /** Called when a tail starts: the signal that stops it (Ctrl-C). */
  readonly stopSignal: () => AbortSignal;
  readonly createClient?: PublishIo['createClient'];
  readonly fetch?: TailIo['fetch'];
}

/** Runs one command line; resolves to the exit code. */
export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  let command: ReturnType<typeof parseCommandLine>;
  try {
    command = parseCommandLine(argv, io.env);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}\n`);
      io.err(error.usage);
      return 2;
    }
    throw error;
  }
  switch (command.kind) {
    case 'help':
      io.out(command.text);
      return 0;
    case 'publish':
      return runPublish(command.args, io);
    case 'tail':
      return runTail(command.args, { ...io, signal: io.stopSignal() });
    case 'verify':
      return runVerify(command.args, io);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // The AWS SDK warns on every run under Node 20 that its 2027 releases will need Node 22:
  // eight lines of stderr around a one-line answer. Whoever set the variable decides.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const stop = new AbortController();
  // A reader that went away (`… | head`) ends a tail quietly, as Ctrl-C does.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      stop.abort();
    });
  }
  const env = process.env;
  const exitCode = await main(process.argv.slice(2), {
    out: (line) => {
      if (!process.stdout.destroyed) process.stdout.write(`${line}\n`);
    },
    err: (line) => {
      if (!process.stderr.destroyed) process.stderr.write(`${line}\n`);
    },
    env,
    readStdin: () => {
      if (process.stdin.isTTY) process.stderr.write('reading data from stdin; end with Ctrl-D\n');
      return readAll(process.stdin);
    },
    color: process.stdout.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb',
    stopSignal: () => {
      // Only a running tail catches Ctrl-C. One Ctrl-C can arrive twice: from the terminal
      // to the whole process group, and relayed by tsx (or npm) to this process. The
      // listener stays, so the echo is absorbed; a Ctrl-C pressed again later forces.
      let first: number | undefined;
      const onSignal = (signal: NodeJS.Signals) => {
        if (first === undefined) {
          first = Date.now();
          stop.abort();
        } else if (Date.now() - first > 1000) {
          process.exit(signal === 'SIGINT' ? 130 : 143);
        }
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      return stop.signal;
    },
  });
  process.exitCode = exitCode;
  // Everything is closed by now; this only guards against a handle left open somewhere.
  setTimeout(() => process.exit(exitCode), 2000).unref();
}
