/** Starts `bench/server.ts` in a child process and talks to it over IPC. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type ChildMessage,
  isChildMessage,
  type ParentMessage,
  type ReadyMessage,
  type ServerConfig,
  type StatsMessage,
} from './server-protocol.js';

export interface ServerChild {
  readonly url: string;
  readonly topicArn: string;
  readonly dynamoEndpoint: string | undefined;
  readonly pid: number | undefined;
  /** Memory (after two forced GCs when started with `exposeGc`), CPU and DynamoDB counts. */
  stats(): Promise<StatsMessage>;
  stop(): Promise<void>;
}

const SERVER_ENTRY = fileURLToPath(new URL('../server.ts', import.meta.url));

export async function startServerChild(
  config: ServerConfig,
  options: { readonly exposeGc?: boolean; readonly timeoutMs?: number } = {},
): Promise<ServerChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      ...(options.exposeGc === true ? ['--expose-gc'] : []),
      SERVER_ENTRY,
      JSON.stringify(config),
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    },
  );
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.off('exit', killOnExit);
      resolve();
    }),
  );

  let waiting: ((message: ChildMessage) => void)[] = [];
  child.on('message', (message: unknown) => {
    if (!isChildMessage(message)) return;
    const handlers = waiting;
    waiting = [];
    for (const handler of handlers) handler(message);
  });
  const nextMessage = (timeoutMs: number): Promise<ChildMessage> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`bench server (${config.mode}) did not answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiting.push((message) => {
        clearTimeout(timer);
        resolve(message);
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`bench server (${config.mode}) exited`));
      });
    });
  const send = (message: ParentMessage): void => {
    if (child.connected) child.send(message);
  };

  let ready: ReadyMessage;
  try {
    const first = await nextMessage(options.timeoutMs ?? 60_000);
    if (first.type !== 'ready') {
      throw new Error(
        `bench server (${config.mode}) failed: ${first.type === 'failed' ? first.message : first.type}`,
      );
    }
    ready = first;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }

  let stopping: Promise<void> | undefined;
  return {
    url: ready.url,
    topicArn: ready.topicArn,
    dynamoEndpoint: ready.dynamoEndpoint,
    pid: child.pid,
    stats: async () => {
      const reply = nextMessage(30_000);
      send({ type: 'stats' });
      const message = await reply;
      if (message.type !== 'stats') throw new Error(`unexpected reply ${message.type}`);
      return message;
    },
    stop: () => {
      stopping ??= (async () => {
        send({ type: 'stop' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
