/**
 * A Lambda function run the way the Node.js managed runtime runs it: each execution
 * environment is a Node 22 process running AWS's runtime interface client
 * (`aws-lambda-ric`, the code of Lambda's own Node runtime), with the environment
 * variables Lambda sets, talking to its own {@link FakeRuntimeApi}. One environment
 * serves one invocation at a time, as in Lambda: an invocation goes to an environment
 * that waits on `/next`, else a new environment is started for it (a cold start).
 *
 * An invocation still running at its deadline gets the environment killed, as Lambda
 * does; so does one whose runtime never asks for the next invocation by then.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { FakeRuntimeApi, type Invocation, type InvocationOutcome } from './runtime-api.js';

/** Where `scripts/setup-lambda-runtime.sh` put Node 22 and the runtime interface client. */
export interface RuntimeInstall {
  /** The Node 22 binary. */
  readonly nodeBin: string;
  /** The installed `aws-lambda-ric` package (its `index.mjs` is the runtime's entry). */
  readonly ricDir: string;
  readonly nodeVersion: string;
  readonly ricVersion: string;
}

export interface FunctionConfig {
  readonly name: string;
  /** The unpacked code: `LAMBDA_TASK_ROOT`. */
  readonly taskRoot: string;
  /** `_HANDLER`, e.g. `index.handler`. */
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutMs: number;
  /** The function's own environment variables. */
  readonly environment: Readonly<Record<string, string>>;
  /** @default us-east-1 */
  readonly region?: string;
  /** Print the environments' output as it comes. @default LAMBDA_HARNESS_VERBOSE=1 */
  readonly verbose?: boolean;
}

const ACCOUNT = '123456789012';

/** Runtime processes still running; killed if the test process exits without close(). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
const OUTPUT_LIMIT = 256 * 1024;
/** How long a killed environment gets to exit before it is forgotten. */
const EXIT_GRACE_MS = 5_000;

export type EnvironmentState = 'init' | 'ready' | 'dead';

/** One execution environment: a runtime client process and its Runtime API. */
export class Environment extends EventEmitter<{ dead: [string] }> {
  readonly api = new FakeRuntimeApi();
  readonly startedAt = Date.now();
  state: EnvironmentState = 'init';
  /** When the runtime first asked for an invocation (the end of its init). */
  readyAt: number | undefined;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #output = '';
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly index: number,
    private readonly config: FunctionConfig,
    private readonly install: RuntimeInstall,
  ) {
    super();
  }

  /** stdout and stderr of the process (the function's "CloudWatch logs"), last 256 KB. */
  get output(): string {
    return this.#output;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    this.api.on('next', () => {
      if (this.state === 'init') {
        this.state = 'ready';
        this.readyAt = Date.now();
      }
      // The invocation is over for Lambda once the runtime asks for the next one.
      this.#clearTimer();
    });
    this.api.on('delivered', (invocation) => {
      this.#clearTimer();
      const wait = Math.max(0, (invocation.deadlineMs ?? Date.now()) - Date.now());
      this.#timer = setTimeout(() => this.#timeout(invocation), wait);
    });
    await this.api.listen();
    const config = this.config;
    const region = config.region ?? 'us-east-1';
    const stamp = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    const env: Record<string, string> = {
      PATH: `${dirname(this.install.nodeBin)}:/usr/local/bin:/usr/bin:/bin`,
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      LAMBDA_TASK_ROOT: config.taskRoot,
      LAMBDA_RUNTIME_DIR: this.install.ricDir,
      _HANDLER: config.handler,
      AWS_LAMBDA_RUNTIME_API: this.api.host,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_FUNCTION_NAME: config.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${config.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${stamp}/[$LATEST]${randomBytes(16).toString('hex')}`,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      // The execution role's credentials; DynamoDB Local and the fakes take any.
      AWS_ACCESS_KEY_ID: 'ASIALAMBDAHARNESS',
      AWS_SECRET_ACCESS_KEY: 'lambda-harness-secret',
      AWS_SESSION_TOKEN: 'lambda-harness-token',
      // Nothing from this machine's ~/.aws may leak in.
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
      ...config.environment,
    };
    // Lambda's bootstrap for nodejs22.x starts node with these flags (the heap is sized
    // from the memory setting); NODE_OPTIONS from the function's environment adds to them.
    const args = [
      '--expose-gc',
      '--max-http-header-size=81920',
      `--max-old-space-size=${Math.floor(config.memoryMb * 0.9)}`,
      join(this.install.ricDir, 'index.mjs'),
    ];
    const child = spawn(this.install.nodeBin, args, {
      cwd: config.taskRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    const verbose = config.verbose ?? process.env.LAMBDA_HARNESS_VERBOSE === '1';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.#output = (this.#output + text).slice(-OUTPUT_LIMIT);
      if (verbose) process.stderr.write(`[${config.name}#${this.index}] ${text}`);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    // If the test process dies without close(), take the environment with it.
    live.add(child);
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.exit = { code, signal };
        this.#died(`runtime process exited (code ${code}, signal ${signal})`);
        resolve();
      });
      child.once('error', (error) => {
        live.delete(child);
        this.#died(`runtime process could not start: ${error.message}`);
        resolve();
      });
    });
  }

  /** Waiting on `/next` with nothing queued: can take an invocation now. */
  get idle(): boolean {
    return this.state === 'ready' && this.api.idle;
  }

  /** Queues an invocation; its deadline timer starts when it is delivered. */
  invoke(event: unknown, functionArn: string): Invocation {
    return this.api.enqueue({ event, timeoutMs: this.config.timeoutMs, functionArn });
  }

  /** Kills the process (SIGKILL, as Lambda does to a timed-out environment). */
  async kill(reason: InvocationOutcome = { kind: 'crashed', reason: 'killed', at: Date.now() }) {
    this.#clearTimer();
    this.api.failPending(reason);
    const child = this.#child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#exited,
        new Promise((resolve) => {
          grace = setTimeout(resolve, EXIT_GRACE_MS);
        }),
      ]);
      clearTimeout(grace);
    }
    if (this.state !== 'dead') {
      this.state = 'dead';
      this.emit('dead', 'killed');
    }
    await this.api.close(reason);
  }

  #timeout(invocation: Invocation): void {
    this.#timer = undefined;
    const outcome: InvocationOutcome = { kind: 'timeout', at: Date.now() };
    const when = invocation.outcome === undefined ? '' : ' (its response had ended: no /next came)';
    this.#output += `\n[harness] ${invocation.id} timed out after ${this.config.timeoutMs} ms${when}\n`;
    invocation.killedAtDeadline = true;
    void this.kill(outcome);
  }

  #died(reason: string): void {
    this.#clearTimer();
    if (this.state === 'dead') return;
    this.state = 'dead';
    this.api.failPending({ kind: 'crashed', reason, at: Date.now() });
    void this.api.close();
    this.emit('dead', reason);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** A function: its configuration and the environments started for it so far. */
export class LambdaFunction {
  readonly environments: Environment[] = [];
  readonly arn: string;
  #closed = false;

  constructor(
    readonly config: FunctionConfig,
    readonly install: RuntimeInstall,
  ) {
    this.arn = `arn:aws:lambda:${config.region ?? 'us-east-1'}:${ACCOUNT}:function:${config.name}`;
  }

  /** Every invocation of every environment, in the order they were made. */
  get invocations(): Invocation[] {
    return this.environments
      .flatMap((e) => e.api.invocations)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** The environment that ran (or runs) `invocation`. */
  environmentOf(invocation: Invocation): Environment | undefined {
    return this.environments.find((e) => e.api.invocations.includes(invocation));
  }

  /** Everything the environments printed, for a failing test's message. */
  output(): string {
    return this.environments.map((e) => `--- environment #${e.index}\n${e.output}`).join('\n');
  }

  /** Starts `count` environments ahead of traffic and waits until they are ready. */
  async warm(count = 1): Promise<void> {
    const started = await Promise.all(Array.from({ length: count }, () => this.#spawn()));
    await Promise.all(started.map((e) => waitReady(e)));
  }

  /**
   * Invokes the function: on an idle environment if there is one, else on a new one.
   * Resolves once the invocation is queued (the environment's process is started).
   */
  async invoke(event: unknown): Promise<Invocation> {
    if (this.#closed) throw new Error(`${this.config.name} is closed`);
    const environment = this.environments.find((e) => e.idle) ?? (await this.#spawn());
    return environment.invoke(event, this.arn);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.environments.map((e) => e.kill()));
  }

  async #spawn(): Promise<Environment> {
    const environment = new Environment(this.environments.length, this.config, this.install);
    this.environments.push(environment);
    await environment.start();
    return environment;
  }
}

/** Resolves when the environment asks for its first invocation; rejects if it dies. */
export function waitReady(environment: Environment): Promise<void> {
  if (environment.state === 'ready') return Promise.resolve();
  if (environment.state === 'dead') {
    return Promise.reject(new Error(`environment died during init:\n${environment.output}`));
  }
  return new Promise((resolve, reject) => {
    const onNext = () => {
      cleanup();
      resolve();
    };
    const onDead = (reason: string) => {
      cleanup();
      reject(new Error(`environment died during init (${reason}):\n${environment.output}`));
    };
    const cleanup = () => {
      environment.api.off('next', onNext);
      environment.off('dead', onDead);
    };
    environment.api.on('next', onNext);
    environment.once('dead', onDead);
  });
}
