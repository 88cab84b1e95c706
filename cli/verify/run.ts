/**
 * `verify`: runs every check against one base URL, in order, and prints one PASS / FAIL
 * / SKIP line per check, then a summary. Exit code 0 only when nothing failed.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { createPublisher, signSubscriberToken } from '../../publisher/index.js';
import type { VerifyArgs } from '../args.js';
import { snsClientConfig } from '../publish.js';
import { authChecks, type VerifyAuth } from './auth-checks.js';
import {
  CHECKS,
  type Check,
  CheckFailed,
  type CheckOutcome,
  HEARTBEAT_CHECK,
  startHeartbeatCheck,
  type VerifyContext,
} from './checks.js';
import { rotationCheck } from './rotation-check.js';

export interface VerifyIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly createClient?: (config: SNSClientConfig) => SNSClient;
  readonly fetch?: typeof fetch;
}

export interface CheckResult extends CheckOutcome {
  readonly name: string;
  readonly promise: string;
  readonly ms: number;
}

async function runOne(check: Check, ctx: VerifyContext): Promise<CheckResult> {
  const start = performance.now();
  let outcome: CheckOutcome;
  try {
    outcome = await check.run(ctx);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    outcome = {
      status: 'fail',
      detail: error instanceof CheckFailed ? message : `error: ${message}`,
    };
  }
  return {
    name: check.name,
    promise: check.promise,
    ...outcome,
    ms: Math.round(performance.now() - start),
  };
}

const TAG = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const;
/** The longest a check's long poll waits (`wait=20`), plus a margin. */
const LONG_POLL_MS = 25_000;

/**
 * Every request without a signal of its own gets a deadline: a server that answers a
 * request with an endless stream where a JSON answer was due must fail a check, not
 * hang the run. Streams (opened with their own signal) are left alone.
 */
function boundedFetch(fetchImpl: typeof fetch, ms: number): typeof fetch {
  return (input, init) =>
    fetchImpl(input, init?.signal == null ? { ...init, signal: AbortSignal.timeout(ms) } : init);
}

function verifyAuth(given: VerifyArgs['auth']): VerifyAuth | undefined {
  if (given === undefined) return undefined;
  const { privatePrefix, tokenSecret } = given;
  return {
    privatePrefix,
    mint: (channels, ttlSeconds) =>
      signSubscriberToken({ channels: [...channels], ttl: ttlSeconds, secret: tokenSecret }),
  };
}

export function formatResult(r: CheckResult): string {
  return `${TAG[r.status]}  ${r.name.padEnd(24)} ${r.detail}`;
}

export async function runVerify(args: VerifyArgs, io: VerifyIo): Promise<number> {
  const client = (io.createClient ?? ((config) => new SNSClient(config)))(snsClientConfig(args));
  const publisher = createPublisher({ topicArn: args.topicArn, client });
  const prefix = `${args.prefix}/${randomUUID().slice(0, 8)}`;
  const ctx: VerifyContext = {
    url: args.url,
    prefix,
    publish: async (channel, data, event) => {
      await publisher.publish(channel, data, event === undefined ? {} : { event });
    },
    origin: args.origin,
    heartbeatSeconds: args.heartbeatSeconds,
    waitMs: args.waitSeconds * 1000,
    fetch: boundedFetch(io.fetch ?? fetch, args.waitSeconds * 1000 + LONG_POLL_MS),
  };
  const auth = verifyAuth(args.auth);
  io.out(`verify ${args.url} (channels under ${prefix}/, publishing to ${args.topicArn})`);
  const results: CheckResult[] = [];
  const planned: Check[] = [...CHECKS, ...authChecks(auth), rotationCheck(args.lifetimeSeconds)];
  const wanted = (name: string) => args.only === undefined || args.only.includes(name);
  const known = new Set([...planned.map((c) => c.name), HEARTBEAT_CHECK]);
  const unknown = (args.only ?? []).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    io.err(`verify: no check named ${unknown.join(', ')}; the checks: ${[...known].join(', ')}`);
    client.destroy();
    return 2;
  }
  try {
    // Held from the start, judged at the end (see startHeartbeatCheck).
    const heartbeat = wanted(HEARTBEAT_CHECK) ? [await startHeartbeatCheck(ctx)] : [];
    for (const check of [...planned.filter((c) => wanted(c.name)), ...heartbeat]) {
      const result = await runOne(check, ctx);
      results.push(result);
      io.out(formatResult(result));
    }
  } finally {
    client.destroy();
  }
  const count = (status: CheckOutcome['status']) =>
    results.filter((r) => r.status === status).length;
  io.out(`\n${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`);
  if (args.json !== undefined) {
    writeFileSync(
      args.json,
      `${JSON.stringify({ url: args.url, prefix, date: new Date().toISOString(), results }, null, 2)}\n`,
    );
    io.out(`wrote ${args.json}`);
  }
  return count('fail') === 0 ? 0 : 1;
}
