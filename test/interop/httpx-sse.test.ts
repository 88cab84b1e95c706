/**
 * Python's `httpx-sse`, driven the way client/README.md recommends (it does not reconnect
 * by itself: the loop resumes with `Last-Event-ID`), against the local stack through a
 * proxy that cuts each of the first connections in the middle of an event. Every event
 * must arrive exactly once, in order, and nothing but `message` and `stream.open` events
 * may be dispatched (httpx-sse dispatches a block that holds only `retry:`).
 *
 * Needs the venv from `bash scripts/setup-python-interop.sh` (`npm run test:interop` runs
 * it first).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCuttingProxy } from '../support/cutting-proxy.js';
import { channelHolding, type LocalStack, startInteropStack } from '../support/interop-stack.js';

const PYTHON = fileURLToPath(new URL('../../.venv-interop/bin/python', import.meta.url));
const CLIENT = fileURLToPath(new URL('./httpx_sse_client.py', import.meta.url));
const EVENTS = Array.from({ length: 12 }, (_, i) => `event ${i + 1}`);
/** Connections cut mid-event before the proxy lets one through whole. */
const CUTS = 4;

interface Dispatched {
  readonly event: string;
  readonly data: string;
  readonly id: string;
}

interface Run {
  readonly code: number;
  readonly events: Dispatched[];
  readonly connections: number;
  readonly stderr: string;
}

function runClient(url: string, count: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(PYTHON, [CLIENT, url, String(count), '20'], (error, stdout, stderr) => {
      const lines = stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Dispatched & { done?: boolean; connections?: number });
      const done = lines.find((line) => line.done === true);
      resolve({
        code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
        events: lines.filter((line) => line.done !== true),
        connections: done?.connections ?? 0,
        stderr,
      });
    });
  });
}

describe('Feature: httpx-sse across connections cut mid-event', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    if (!existsSync(PYTHON)) {
      throw new Error(
        `no Python interop venv at ${PYTHON}: run \`bash scripts/setup-python-interop.sh\` (or \`npm run test:interop\`)`,
      );
    }
    stack = await startInteropStack();
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('gets every event once, in order, and no phantom events', async () => {
    // Prepare: the channel's events are stored before anyone connects.
    const channel = await channelHolding(stack, EVENTS);
    const proxy = await startCuttingProxy(new URL(stack.url), CUTS);

    // Act
    let run: Run;
    try {
      run = await runClient(
        `${proxy.url}/events?channel=${channel}&lastEventId=earliest`,
        EVENTS.length,
      );
    } finally {
      await proxy.close();
    }

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(proxy.cuts()).toBe(CUTS);
    expect(run.connections).toBe(CUTS + 1);
    const messages = run.events.filter((event) => event.event === 'message');
    expect(messages.map((event) => event.data)).toEqual(EVENTS);
    expect(new Set(messages.map((event) => event.id)).size).toBe(EVENTS.length);
    // Each connection opens with stream.open; nothing else is dispatched.
    const notices = run.events.filter((event) => event.event !== 'message');
    expect(notices.map((event) => event.event)).toEqual(
      Array.from({ length: CUTS + 1 }, () => 'stream.open'),
    );
  }, 40_000);
});
