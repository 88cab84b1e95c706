/**
 * The README's quick start, as a new user types it: a fresh clone, `npm ci`, `npm start`
 * with nothing but PORT set, publish with the real AWS SDK to the topic ARN it printed,
 * receive with the npm `eventsource` client; stop with Ctrl-C, start again, and the event
 * is still there (data under the clone's own `.data/`). Also the CLI on the same PORT.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PublishCommand } from '@aws-sdk/client-sns';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/dynamodb-local.js';
import { localSnsClient } from '../support/local-sns-client.js';
import {
  interruptStackGroup,
  type StackProcess,
  startStackProcess,
} from '../support/stack-process.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `git clone` of this repository, plus the working tree's uncommitted changes, so that a
 * developer's run tests what they are editing (a clean CI checkout has none). Ignored
 * files (node_modules, .data, cdk.out) never come along.
 */
function cloneWorkingTree(into: string): void {
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO, into]);
  const git = (args: string[]) =>
    execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).split('\0');
  // Staged and unstaged changes against HEAD (a rename as its two sides), then new files.
  const changed = [
    ...git(['diff', '--name-only', '--no-renames', '-z', 'HEAD']),
    ...git(['ls-files', '--others', '--exclude-standard', '-z']),
  ].filter((path) => path !== '');
  for (const path of changed) {
    const source = join(REPO, path);
    if (existsSync(source)) {
      mkdirSync(dirname(join(into, path)), { recursive: true });
      cpSync(source, join(into, path), { recursive: true });
    } else rmSync(join(into, path), { force: true });
  }
}

/** README's curl publish command: the lines from `curl --aws-sigv4` to its last `\\`-continued line. */
function readmeCurlPublish(): string {
  const lines = readFileSync(join(REPO, 'README.md'), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.startsWith('curl --aws-sigv4'));
  if (start === -1) throw new Error('README.md has no `curl --aws-sigv4` publish command');
  const command: string[] = [];
  for (const line of lines.slice(start)) {
    command.push(line.replace(/\s+#.*$/, ''));
    if (!line.trimEnd().endsWith('\\')) break;
  }
  return command.join('\n');
}

/** The environment of a fresh terminal: no test settings, no npm variables of our own run. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { PATH, HOME } = process.env;
  return { ...(PATH && { PATH }), ...(HOME && { HOME }), ...extra };
}

/** Collects a stream's events until `count` have arrived. */
function receive(url: string, count: number): Promise<{ id: string; data: string }[]> {
  const events: { id: string; data: string }[] = [];
  const source = new EventSource(url);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      source.close();
      reject(new Error(`${events.length} of ${count} events from ${url}`));
    }, 20_000);
    source.addEventListener('message', (e) => {
      events.push({ id: e.lastEventId, data: e.data });
      if (events.length === count) {
        clearTimeout(timer);
        source.close();
        resolve(events);
      }
    });
  });
}

/** Resolves once a stream is open (its `stream.open` arrived), so "latest" starts here. */
function opened(source: EventSource): Promise<void> {
  return new Promise((resolve) => source.addEventListener('stream.open', () => resolve()));
}

describe('README: quick start on a fresh clone', () => {
  let clone: string;
  let port: number;
  let stack: StackProcess | undefined;

  const npmStart = () =>
    startStackProcess('npm', ['start'], {
      cwd: clone,
      env: userEnv({ PORT: String(port) }),
      // Its own process group, so that Ctrl-C reaches npm, tsx and node as from a terminal.
      detached: true,
    });

  beforeAll(() => {
    clone = join(mkdtempSync(join(tmpdir(), 'sse-pubsub-readme-')), 'serverless-sse-pubsub');
    cloneWorkingTree(clone);
    const install = spawnSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: clone,
      env: userEnv({ CI: 'true' }),
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (install.status !== 0) throw new Error(`npm ci failed:\n${install.stderr}`);
  }, 300_000);

  afterAll(async () => {
    if (stack !== undefined) await interruptStackGroup(stack);
    rmSync(dirname(clone), { recursive: true, force: true });
  });

  it('npm start serves with default settings, and keeps the data across a restart', async () => {
    port = await freePort();
    stack = await npmStart();
    expect(stack.url).toBe(`http://127.0.0.1:${port}`);
    // Nothing between the user and the ready line but the stack's own lines.
    expect(stack.output()).not.toMatch(/NodeVersionSupportWarning|Error/);

    const live = new EventSource(`${stack.url}/events?channel=readme`);
    await opened(live);
    const first = receive(`${stack.url}/events?channel=readme`, 1);
    live.close();
    const sns = localSnsClient(stack.url);
    await sns.send(
      new PublishCommand({
        TopicArn: stack.topicArn,
        Message: 'hello from the README',
        MessageAttributes: { channel: { DataType: 'String', StringValue: 'readme' } },
      }),
    );
    const [event] = await first;
    expect(event?.data).toBe('hello from the README');
    sns.destroy();

    // Ctrl-C stops every process it started, DynamoDB Local's Java included.
    await interruptStackGroup(stack);
    expect(stack.output()).toContain('SIGINT: stopping');
    expect(readdirSync(join(clone, '.data', 'dynamodb')).length).toBeGreaterThan(0);

    stack = await npmStart();
    // The CLI, run with the same PORT as npm start, finds the stack without --endpoint.
    const cli = spawnSync('npm', ['run', 'cli', '--', 'publish', 'readme', 'from the CLI'], {
      cwd: clone,
      env: userEnv({ PORT: String(port) }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(cli.status, cli.stderr).toBe(0);
    // README's curl publish, as printed there (only the port differs), reaches a subscriber.
    const curl = readmeCurlPublish().replaceAll('127.0.0.1:8787', `127.0.0.1:${port}`);
    const demo = receive(`${stack.url}/events?channel=demo&lastEventId=earliest`, 1);
    await promisify(execFile)('sh', ['-c', curl], { cwd: clone, env: userEnv() });
    expect(await demo).toEqual([{ id: expect.any(String), data: '{"hello":"world"}' }]);
    const replay = await receive(`${stack.url}/events?channel=readme&lastEventId=earliest`, 2);
    expect(replay).toEqual([event, { id: expect.any(String), data: 'from the CLI' }]);
  }, 180_000);
});
