import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { promisify } from 'node:util';

/** A local stack started as its own process (`npm start`, or its entry under tsx). */
export interface StackProcess {
  readonly url: string;
  readonly topicArn: string;
  readonly process: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
}

/**
 * Starts `command args` and waits for the ready line (`Local stack ready: <url>` and
 * `Topic ARN: <arn>`), failing with what the process printed if it exits or stays silent.
 */
export async function startStackProcess(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
  timeoutMs = 60_000,
): Promise<StackProcess> {
  const child = spawn(command, [...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = Date.now() + timeoutMs;
  while (!/Topic ARN:\s+(\S+)/.test(output)) {
    if (child.exitCode !== null) throw new Error(`local stack exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`local stack not ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /Local stack ready: (\S+)/.exec(output)?.[1] ?? '';
  const topicArn = /Topic ARN:\s+(\S+)/.exec(output)?.[1] ?? '';
  return { url, topicArn, process: child, output: () => output };
}

/** Ctrl-C to the process itself, as a user would stop it; resolves with the exit code. */
export async function interruptStack(stack: StackProcess): Promise<number | null> {
  const child = stack.process;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  return exited;
}

/**
 * Ctrl-C as a terminal sends it, to the whole process group of a stack started
 * `detached` (npm, tsx, node and DynamoDB Local's Java). Resolves once every process of
 * the group has exited; rejects if one is still there after `timeoutMs`.
 */
export async function interruptStackGroup(stack: StackProcess, timeoutMs = 20_000): Promise<void> {
  const pid = stack.process.pid;
  if (pid === undefined) throw new Error('the stack process has no pid');
  const alive = () => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(-pid, 'SIGINT');
  const deadline = Date.now() + timeoutMs;
  while (alive()) {
    if (Date.now() > deadline) {
      process.kill(-pid, 'SIGKILL');
      throw new Error(`processes of the stack were still running ${timeoutMs} ms after Ctrl-C`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const execFileAsync = promisify(execFile);

/** The processes of process group `pgid` (a stack started `detached` leads its own). */
export async function groupProcesses(pgid: number): Promise<{ pid: number; command: string }[]> {
  const { stdout } = await execFileAsync('ps', ['-A', '-o', 'pid=,pgid=,args=']);
  return stdout.split('\n').flatMap((line) => {
    const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    return match !== null && Number(match[2]) === pgid
      ? [{ pid: Number(match[1]), command: match[3] ?? '' }]
      : [];
  });
}

/** DynamoDB Local's Java process among a `detached` stack's processes. */
export async function dynamoDBLocalPid(stack: StackProcess): Promise<number> {
  const pid = stack.process.pid;
  if (pid === undefined) throw new Error('the stack process has no pid');
  const java = (await groupProcesses(pid)).find((p) => p.command.includes('DynamoDBLocal.jar'));
  if (java === undefined) throw new Error(`no DynamoDB Local in process group ${pid}`);
  return java.pid;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once none of `pids` runs any more; rejects, naming those left, after `timeoutMs`. */
export async function waitUntilGone(pids: readonly number[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pids.filter(isAlive);
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`pids ${left.join(', ')} still running`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The process's exit code, or null if ended by a signal; rejects if it still runs after `timeoutMs`. */
export async function exitOf(child: ChildProcess, timeoutMs = 20_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`pid ${child.pid} still running after ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** SIGKILL to every process left in a `detached` stack's group, so a failed test leaves none. */
export function killStackGroup(stack: StackProcess): void {
  const pid = stack.process.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already empty.
  }
}
