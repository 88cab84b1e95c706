/**
 * CPU time and resident memory of another process, read from Linux's /proc the way `ps`
 * and `top` do. A server the bench runs as a plain child (not `bench/server.ts`, which
 * reports over IPC) can only be measured from outside, and /proc is what sees its whole
 * process: V8, libuv, the TLS-less HTTP stack and the AWS SDK alike.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcessSample {
  /** utime + stime, in seconds. */
  readonly cpuSeconds: number;
  /** VmRSS, in bytes. */
  readonly rssBytes: number;
  /** `Date.now()` when the sample was taken. */
  readonly at: number;
}

/**
 * utime and stime (fields 14 and 15, in clock ticks) of a `/proc/<pid>/stat` line. The
 * command name (field 2) is in parentheses and may itself hold spaces and `)`, so the
 * fields are counted from the last `)`.
 */
export function parseProcStat(text: string): { readonly utime: number; readonly stime: number } {
  const end = text.lastIndexOf(')');
  if (end < 0) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  // After ")": field 3 (state) is index 0, so field n is index n - 3.
  const fields = text
    .slice(end + 1)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error(`no utime/stime in /proc/<pid>/stat: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { utime, stime };
}

/** VmRSS of a `/proc/<pid>/status` text, in bytes (the kernel writes it in kB = KiB). */
export function parseVmRssBytes(text: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  if (match?.[1] === undefined) throw new Error('no VmRSS line in /proc/<pid>/status');
  return Number(match[1]) * 1024;
}

let ticks: number | undefined;

/** `getconf CLK_TCK`: the unit of /proc's CPU times (100 on every usual Linux). */
export function clockTicksPerSecond(): number {
  if (ticks === undefined) {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (!Number.isInteger(value) || value <= 0) throw new Error('getconf CLK_TCK gave no number');
    ticks = value;
  }
  return ticks;
}

export function sampleProcess(pid: number): ProcessSample {
  const { utime, stime } = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const rssBytes = parseVmRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: (utime + stime) / clockTicksPerSecond(), rssBytes, at: Date.now() };
}
