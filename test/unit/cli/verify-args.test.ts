/** `verify`'s command line: defaults that reach the local stack, and errors naming the option. */
import { describe, expect, it } from 'vitest';
import {
  LOCAL_BASE_URL,
  LOCAL_SNS_ENDPOINT,
  LOCAL_TOPIC_ARN,
  parseCommandLine,
  UsageError,
  VERIFY_USAGE,
  type VerifyArgs,
} from '../../../cli/args.js';

function verify(argv: readonly string[], env = {}): VerifyArgs {
  const command = parseCommandLine(['verify', ...argv], env);
  if (command.kind !== 'verify') throw new Error(`not verify: ${command.kind}`);
  return command.args;
}

function refusal(argv: readonly string[], env = {}): string {
  try {
    parseCommandLine(['verify', ...argv], env);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('accepted');
}

describe('Command: verify', () => {
  it('checks the local stack by default, publishing through its /sns', () => {
    expect(verify([])).toEqual({
      url: LOCAL_BASE_URL,
      topicArn: LOCAL_TOPIC_ARN,
      endpoint: LOCAL_SNS_ENDPOINT,
      region: 'us-east-1',
      origin: undefined,
      prefix: 'verify',
      heartbeatSeconds: 15,
      waitSeconds: 20,
      json: undefined,
      only: undefined,
      lifetimeSeconds: undefined,
      auth: undefined,
    });
  });

  it('runs only the named checks with --only', () => {
    expect(verify(['--only', 'sse.resume, framing']).only).toEqual(['sse.resume', 'framing']);
    expect(refusal(['--only', ' , '])).toMatch(/--only needs at least one check name/);
  });

  it('waits out a lifetime only with --long, 300 s unless told the stack’s', () => {
    expect(verify(['--long']).lifetimeSeconds).toBe(300);
    expect(verify(['--long', '--lifetime-seconds', '60']).lifetimeSeconds).toBe(60);
    expect(refusal(['--lifetime-seconds', '60'])).toMatch(/--lifetime-seconds is for --long/);
    expect(refusal(['--long', '--lifetime-seconds', '901'])).toMatch(/from 1 to 900/);
  });

  it('takes a private prefix with a token secret, from --token-secret or AUTH_SECRET', () => {
    expect(verify(['--private-prefix', 'private/', '--token-secret', 's3cr3t']).auth).toEqual({
      privatePrefix: 'private/',
      tokenSecret: 's3cr3t',
    });
    expect(verify(['--private-prefix', 'user/'], { AUTH_SECRET: 'from-env' }).auth).toEqual({
      privatePrefix: 'user/',
      tokenSecret: 'from-env',
    });
    // AUTH_SECRET alone (the local stack's variable) does not turn the checks on.
    expect(verify([], { AUTH_SECRET: 'from-env' }).auth).toBeUndefined();
    expect(refusal(['--private-prefix', 'private/'])).toMatch(
      /--private-prefix needs --token-secret \(or AUTH_SECRET\)/,
    );
    expect(refusal(['--token-secret', 's3cr3t'])).toMatch(/--token-secret needs --private-prefix/);
  });

  it('publishes to a real topic in its region when given one, and reads STREAM_URL and TOPIC_ARN', () => {
    const args = verify([], {
      STREAM_URL: 'https://d111.cloudfront.net/',
      TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:events',
    });
    expect(args.url).toBe('https://d111.cloudfront.net');
    expect(args.topicArn).toBe('arn:aws:sns:eu-west-1:123456789012:events');
    expect(args.endpoint).toBeUndefined();
    expect(args.region).toBe('eu-west-1');
  });

  it('refuses what cannot work, naming the option', () => {
    expect(refusal(['--wait-seconds', '0'])).toMatch(/--wait-seconds must be a whole number/);
    expect(refusal(['--heartbeat-seconds', '1.5'])).toMatch(/--heartbeat-seconds/);
    expect(refusal(['--prefix', '#x'])).toMatch(/--prefix "#x"/);
    expect(refusal(['--url', 'ftp://x'])).toMatch(/--url "ftp:\/\/x" must be an http\(s\) URL/);
    expect(refusal(['--url', 'http://x/?a=1'])).toMatch(/must not have a query/);
    expect(refusal(['--origin', 'nope'])).toMatch(/--origin "nope" is not a URL/);
    expect(refusal(['extra'])).toMatch(/verify takes no arguments/);
    expect(refusal(['--bogus'])).toMatch(/bogus/);
  });

  it('shows its usage with --help and through help verify', () => {
    expect(parseCommandLine(['verify', '--help'])).toEqual({ kind: 'help', text: VERIFY_USAGE });
    expect(parseCommandLine(['help', 'verify'])).toEqual({ kind: 'help', text: VERIFY_USAGE });
  });
});
