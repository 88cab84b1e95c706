/**
 * A server the bench started as a child process: killed if the bench exits first (a
 * crashed bench must not leave servers holding ports), and its exit observable.
 */
import type { ChildProcess } from 'node:child_process';

export interface WatchedChild {
  /** Resolves when the child has exited. */
  readonly exited: Promise<void>;
  /** Its exit code; `undefined` while it runs (`null` when a signal ended it). */
  exitCode(): number | null | undefined;
}

export function watchChild(child: ChildProcess): WatchedChild {
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let code: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (exitCode) => {
      code = exitCode;
      process.off('exit', killOnExit);
      resolve();
    }),
  );
  return { exited, exitCode: () => code };
}
