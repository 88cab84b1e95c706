/** The CLI's `MainIo` for tests: every line it prints into `lines`, no stdin, no colour. */
import type { MainIo } from '../../cli/main.js';

export function capturedIo(lines: string[]): MainIo {
  return {
    out: (line) => lines.push(line),
    err: (line) => lines.push(line),
    env: {},
    readStdin: async () => new Uint8Array(),
    color: false,
    stopSignal: () => new AbortController().signal,
  };
}
