/**
 * `verify` against the local stack as `npm start` runs it (default settings, so the
 * heartbeat check waits the default 15 s), and against deliberately broken servers,
 * which must fail the checks they break and only those.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { startLocalStack } from '../../local/stack.js';
import { type Breakage, startBrokenProxy } from '../fixtures/broken-sse-proxy.js';
import { capturedIo } from '../support/cli-io.js';

type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;

const statusOf = (lines: readonly string[], check: string): string | undefined =>
  lines
    .find((l) => new RegExp(`^(PASS|FAIL|SKIP)\\s+${check.replace('.', '\\.')}\\s`).test(l))
    ?.slice(0, 4);

/** `verify` against `url`, publishing through its own `/sns`, with `extra` options. */
async function verifyAt(url: string, extra: readonly string[] = []) {
  const lines: string[] = [];
  const code = await main(
    ['verify', '--url', url, '--endpoint', `${url}/sns`, ...extra],
    capturedIo(lines),
  );
  return { code, lines };
}

/** A second local stack with `env`, stopped after `body`. */
async function withStack<T>(
  env: Record<string, string>,
  body: (stack: LocalStack) => Promise<T>,
): Promise<T> {
  const other = await startLocalStack({
    port: 0,
    inMemory: true,
    env,
    log: { info: () => {}, error: () => {} },
  });
  try {
    return await body(other);
  } finally {
    await other.stop();
  }
}

describe('Feature: verify checks a stack keeps the subscribe contract', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      inMemory: true,
      log: { info: () => {}, error: () => {} },
    });
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('passes every check against the local stack with its defaults, and writes the JSON', async () => {
    // Prepare
    const lines: string[] = [];
    const json = `${process.env.TMPDIR ?? '/tmp'}/verify-${Date.now()}.json`;

    // Act
    const code = await main(
      [
        'verify',
        '--url',
        stack.url,
        '--endpoint',
        `${stack.url}/sns`,
        '--origin',
        'https://app.example.com',
        '--json',
        json,
      ],
      capturedIo(lines),
    );

    // Assess
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(code).toBe(0);
    for (const check of [
      'sse.headers',
      'sse.delivery',
      'poll.delivery',
      'poll.long',
      'sse.resume',
      'sse.envelope',
      'sse.earliest-and-reset',
      'framing',
      'errors',
      'cors',
      'sse.heartbeat',
    ]) {
      expect(statusOf(lines, check), check).toBe('PASS');
    }
    const { readFileSync } = await import('node:fs');
    const saved = JSON.parse(readFileSync(json, 'utf8')) as {
      results: { name: string; status: string; figures?: Record<string, number> }[];
    };
    expect(saved.results).toHaveLength(14);
    expect(saved.results.find((r) => r.name === 'sse.rotation')?.status).toBe('skip');
    // No private prefix on this stack, so no token checks.
    expect(saved.results.filter((r) => r.name.startsWith('auth.')).map((r) => r.status)).toEqual([
      'skip',
      'skip',
    ]);
    expect(saved.results.find((r) => r.name === 'sse.delivery')?.figures?.p99Ms).toBeGreaterThan(0);
  }, 60_000);

  it('passes as a user types it: npm run cli -- verify, with only the PORT npm start uses', async () => {
    // Prepare
    const repo = fileURLToPath(new URL('../..', import.meta.url));
    const port = new URL(stack.url).port;

    // Act
    const { stdout } = await promisify(execFile)(
      'npm',
      ['run', '--silent', 'cli', '--', 'verify'],
      {
        cwd: repo,
        env: { ...process.env, PORT: port, STREAM_URL: '', TOPIC_ARN: '' },
      },
    );

    // Assess: the command exited 0 (execFile rejects otherwise) and ran every check
    expect(stdout).toContain(`verify http://127.0.0.1:${port} `);
    expect(stdout).toMatch(/\n10 passed, 0 failed, 4 skipped\n/);
  }, 90_000);

  it('checks 401/403 and the end at exp against a stack with private channels, minting its own tokens', async () => {
    // Prepare: a second stack whose private/ channels need an HS256 token
    const secret = 'verify-test-secret-0123456789abcdef';
    await withStack({ AUTH_PRIVATE_PREFIXES: 'private/', AUTH_SECRET: secret }, async (other) => {
      // Act
      const { code, lines } = await verifyAt(other.url, [
        '--private-prefix',
        'private/',
        '--token-secret',
        secret,
      ]);

      // Assess
      expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(code).toBe(0);
      expect(statusOf(lines, 'auth.refusals')).toBe('PASS');
      expect(statusOf(lines, 'auth.expiry')).toBe('PASS');
      expect(lines.find((l) => l.includes('auth.expiry'))).toMatch(
        /ended -?\d+ ms from the token's exp/,
      );
    });
  }, 90_000);

  it('with --long, waits out a stream lifetime and resumes across its end, losing and repeating nothing', async () => {
    // Prepare: a stack whose streams live 3 s (less up to 20 %)
    await withStack({ STREAM_LIFETIME_SECONDS: '3' }, async (other) => {
      // Act: the other checks hold streams longer than this stack lets them live
      const { code, lines } = await verifyAt(other.url, [
        '--long',
        '--lifetime-seconds',
        '3',
        '--only',
        'sse.rotation',
      ]);

      // Assess
      expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(code).toBe(0);
      expect(lines.filter((l) => /^(PASS|FAIL|SKIP) /.test(l))).toHaveLength(1);
      const rotation = lines.find((l) => /^PASS\s+sse\.rotation\s/.test(l));
      const ms = Number(/ended itself after (\d+) ms/.exec(rotation ?? '')?.[1]);
      // 3 s less up to 20 % jitter, plus the stream's opening.
      expect(ms).toBeGreaterThanOrEqual(2_000);
      expect(ms).toBeLessThan(6_000);
    });
  }, 120_000);

  it('refuses an --only name no check has, listing the checks, before running any', async () => {
    const { code, lines } = await verifyAt(stack.url, ['--only', 'framing,nope']);
    expect(code).toBe(2);
    expect(lines.join('\n')).toMatch(
      /no check named nope; the checks: sse\.headers, .*sse\.heartbeat/,
    );
    expect(lines.some((l) => /^(PASS|FAIL|SKIP) /.test(l))).toBe(false);
  });

  it('fails auth.refusals against a server that lets private channels through without a token', async () => {
    // Act: the default stack has no private prefix, so nothing is refused
    const { code, lines } = await verifyAt(stack.url, [
      '--private-prefix',
      'private/',
      '--token-secret',
      'verify-test-secret-0123456789abcdef',
      '--wait-seconds',
      '3',
    ]);

    // Assess
    expect(code).toBe(1);
    expect(lines.find((l) => l.includes('auth.refusals'))).toMatch(
      /^FAIL\s+auth\.refusals\s+no token: answered 200/,
    );
    // Its stream outlives the token: the lifetime, not exp, ends it.
    expect(statusOf(lines, 'auth.expiry')).toBe('FAIL');
  }, 120_000);

  it.each<[Breakage, string, string]>([
    ['ignore-last-event-id', 'sse.resume', 'framing'],
    ['forward-field-lines', 'framing', 'sse.resume'],
  ])(
    'fails the named check against a server that does %s',
    async (breakage, failing, passing) => {
      // Prepare
      const proxy = await startBrokenProxy(stack.url, breakage);
      const lines: string[] = [];
      try {
        // Act
        const code = await main(
          ['verify', '--url', proxy.url, '--endpoint', `${stack.url}/sns`, '--wait-seconds', '3'],
          capturedIo(lines),
        );

        // Assess
        expect(code).toBe(1);
        expect(statusOf(lines, failing)).toBe('FAIL');
        expect(statusOf(lines, passing)).toBe('PASS');
        expect(statusOf(lines, 'cors')).toBe('SKIP');
      } finally {
        await proxy.close();
      }
    },
    120_000,
  );
});
