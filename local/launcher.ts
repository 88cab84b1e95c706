import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * `npm start` runs this process as npm → sh → tsx → node. A SIGTERM to npm reaches the
 * shell, which dies without passing it on, so tsx and this process would keep running,
 * reparented, with DynamoDB Local behind them. The stack therefore lives as long as every
 * process between it and npm: that chain is what the user started and may stop.
 */
export interface LauncherProcess {
  readonly pid: number;
  /** Its command line, to name it in messages. */
  readonly command: string;
}

const execFileAsync = promisify(execFile);

/**
 * The processes from this one's parent up to the npm that runs it, npm last; empty when
 * not started by an npm script (then whoever started it decides how long it runs), or when
 * `ps` cannot tell.
 */
export async function npmLaunchChain(
  env: NodeJS.ProcessEnv = process.env,
): Promise<LauncherProcess[]> {
  const script = env.npm_lifecycle_script;
  if (script === undefined || script === '') return [];
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('ps', ['-A', '-o', 'pid=,ppid=,args=']));
  } catch {
    return [];
  }
  const processes = new Map<number, { ppid: number; command: string }>();
  for (const line of stdout.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (match !== null) {
      processes.set(Number(match[1]), { ppid: Number(match[2]), command: match[3] ?? '' });
    }
  }
  const chain: LauncherProcess[] = [];
  let pid = process.ppid;
  while (pid > 1) {
    const entry = processes.get(pid);
    if (entry === undefined) return [];
    chain.push({ pid, command: entry.command });
    // npm runs a script as `<shell> -c <script>`: the shell's parent is npm.
    if (entry.command.endsWith(` -c ${script}`)) {
      const npm = processes.get(entry.ppid);
      if (npm === undefined || entry.ppid <= 1) return [];
      chain.push({ pid: entry.ppid, command: npm.command });
      return chain;
    }
    pid = entry.ppid;
  }
  return [];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

/**
 * Calls `onGone` once, with the first process of `chain` found gone; checks every
 * `intervalMs` without keeping this process alive. Returns a function that stops watching.
 */
export function watchLaunchChain(
  chain: readonly LauncherProcess[],
  onGone: (gone: LauncherProcess) => void,
  intervalMs = 500,
): () => void {
  if (chain.length === 0) return () => {};
  const timer = setInterval(() => {
    const gone = chain.find((p) => !isAlive(p.pid));
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
