/**
 * The command-line tool (cli/): argument parsing and formatting as pure functions, the
 * commands with a mocked SNS client and a scripted `fetch`, and end to end as child
 * processes (`npx tsx cli/main.ts …`) against the local stack.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Command,
  eventsUrl,
  LOCAL_BASE_URL,
  LOCAL_SNS_ENDPOINT,
  LOCAL_TOPIC_ARN,
  MAIN_USAGE,
  PUBLISH_USAGE,
  type PublishArgs,
  parseCommandLine,
  regionOfArn,
  TAIL_USAGE,
  type TailArgs,
  UsageError,
} from '../../../cli/args.js';
import {
  describeHttpError,
  type EventRecord,
  formatHuman,
  formatJson,
  type ReceivedMessage,
  type ResetRecord,
  sanitize,
  shortId,
  toRecord,
} from '../../../cli/format.js';
import { type MainIo, main } from '../../../cli/main.js';
import {
  decodeStdinData,
  describeSendError,
  isLoopback,
  runPublish,
  snsClientConfig,
} from '../../../cli/publish.js';
import { runTail } from '../../../cli/tail.js';
import { DEFAULT_PORT } from '../../../local/defaults.js';
import { type LocalStack, startLocalStack } from '../../../local/stack.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const AWS_ARN = 'arn:aws:sns:eu-west-1:123456789012:SsePubSub-Topic';

function parsePublish(argv: string[], env = {}): PublishArgs {
  const command: Command = parseCommandLine(['publish', ...argv], env);
  if (command.kind !== 'publish') throw new Error(`expected publish, got ${command.kind}`);
  return command.args;
}

function parseTail(argv: string[], env = {}): TailArgs {
  const command: Command = parseCommandLine(['tail', ...argv], env);
  if (command.kind !== 'tail') throw new Error(`expected tail, got ${command.kind}`);
  return command.args;
}

function usageError(argv: string[], env = {}): UsageError {
  try {
    parseCommandLine(argv, env);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`no UsageError for ${JSON.stringify(argv)}`);
}

/** Collects what a command writes, line by line. */
function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
  detail: () => string = () => '',
) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const RECEIVED = new Date(2026, 0, 2, 3, 4, 5, 6); // local time 03:04:05.006
const message = (over: Partial<ReceivedMessage> = {}): ReceivedMessage => ({
  type: 'message',
  data: 'hello',
  id: '1.eyJkZW1vIjoxfQ',
  received: RECEIVED,
  ...over,
});
const SINGLE = { channels: ['demo'], envelope: false };
const ENVELOPED = { channels: ['demo', 'orders/42'], envelope: true };

describe('Function: parseCommandLine', () => {
  describe('Command: publish', () => {
    it('defaults to the local stack: its SNS endpoint, topic ARN and the ARN region', () => {
      expect(parsePublish(['demo', 'hello'])).toEqual({
        channel: 'demo',
        data: { kind: 'argument', text: 'hello' },
        event: undefined,
        dedupeId: undefined,
        topicArn: LOCAL_TOPIC_ARN,
        endpoint: LOCAL_SNS_ENDPOINT,
        region: 'us-east-1',
      });
    });

    it('finds the local stack on the PORT that npm start uses', () => {
      expect(parsePublish(['demo', 'hello'], { PORT: '9123' }).endpoint).toBe(
        'http://127.0.0.1:9123/sns',
      );
      // An explicit endpoint, or a topic ARN (real AWS), does not depend on PORT.
      expect(
        parsePublish(['demo', 'x', '--endpoint', 'http://127.0.0.1:1/sns'], { PORT: '9123' })
          .endpoint,
      ).toBe('http://127.0.0.1:1/sns');
      expect(parsePublish(['demo', 'x', '--topic-arn', AWS_ARN], { PORT: '9123' }).endpoint).toBe(
        undefined,
      );
    });

    it('names PORT when it is not a port number', () => {
      for (const port of ['abc', '0', '70000', '80.5']) {
        expect(usageError(['publish', 'demo', 'x'], { PORT: port }).message).toBe(
          `environment variable PORT must be a port number from 1 to 65535, got ${JSON.stringify(port)}`,
        );
      }
    });

    it('with --topic-arn and no --endpoint talks to real AWS in the topic region', () => {
      const args = parsePublish(['demo', 'x', '--topic-arn', AWS_ARN]);
      expect(args).toMatchObject({ topicArn: AWS_ARN, endpoint: undefined, region: 'eu-west-1' });
    });

    it('takes the topic ARN from TOPIC_ARN, and --topic-arn over it', () => {
      expect(parsePublish(['demo', 'x'], { TOPIC_ARN: AWS_ARN })).toMatchObject({
        topicArn: AWS_ARN,
        endpoint: undefined,
      });
      const other = 'arn:aws:sns:us-west-2:123456789012:other';
      expect(
        parsePublish(['demo', 'x', '--topic-arn', other], { TOPIC_ARN: AWS_ARN }),
      ).toMatchObject({ topicArn: other, region: 'us-west-2' });
    });

    it('keeps an explicit --endpoint and --region', () => {
      const args = parsePublish([
        'demo',
        'x',
        '--topic-arn',
        AWS_ARN,
        '--endpoint',
        'http://127.0.0.1:9999/sns',
        '--region',
        'ap-south-1',
      ]);
      expect(args).toMatchObject({ endpoint: 'http://127.0.0.1:9999/sns', region: 'ap-south-1' });
    });

    it('passes --event and --dedupe-id through unchecked (the SDK validates them)', () => {
      const args = parsePublish(['demo', 'x', '--event', 'stream.nope', '--dedupe-id', 'd-1']);
      expect(args).toMatchObject({ event: 'stream.nope', dedupeId: 'd-1' });
    });

    it("reads data from stdin for '-', and takes data starting with '-' after '--'", () => {
      expect(parsePublish(['demo', '-']).data).toEqual({ kind: 'stdin' });
      expect(parsePublish(['demo', '--', '-1']).data).toEqual({ kind: 'argument', text: '-1' });
      expect(parsePublish(['demo', '']).data).toEqual({ kind: 'argument', text: '' });
    });

    it.each([
      [['publish'], /needs a channel/],
      [['publish', 'demo'], /needs the data/],
      [['publish', 'demo', 'a', 'b'], /unexpected "b"/],
      [['publish', 'demo', 'x', '--bogus'], /Unknown option '--bogus'$/],
      [['publish', 'demo', 'x', '--event'], /--event/],
      [['publish', 'demo', 'x', '--endpoint', 'localhost:8787'], /must be an http\(s\) URL/],
      [['publish', 'demo', 'x', '--endpoint', 'nope'], /is not a URL/],
      [['publish', 'demo', 'x', '--topic-arn='], /--topic-arn needs a value/],
    ])('refuses %j with a usage error', (argv, pattern) => {
      const error = usageError(argv);
      expect(error.message).toMatch(pattern);
      expect(error.usage).toBe(PUBLISH_USAGE);
    });

    it('answers --help and -h with the command usage', () => {
      expect(parseCommandLine(['publish', '--help'])).toEqual({
        kind: 'help',
        text: PUBLISH_USAGE,
      });
      expect(parseCommandLine(['publish', 'demo', '-h'])).toEqual({
        kind: 'help',
        text: PUBLISH_USAGE,
      });
    });
  });

  describe('Command: tail', () => {
    it('defaults to the local stack, latest, no envelope, readable output', () => {
      expect(parseTail(['demo'])).toEqual({
        channels: ['demo'],
        baseUrl: LOCAL_BASE_URL,
        from: { kind: 'latest' },
        envelope: false,
        json: false,
        token: undefined,
      });
    });

    it('finds the local stack on the PORT that npm start uses, unless a URL is given', () => {
      expect(parseTail(['demo'], { PORT: '9123' }).baseUrl).toBe('http://127.0.0.1:9123');
      expect(parseTail(['demo'], { PORT: '9123', STREAM_URL: 'https://x.example' }).baseUrl).toBe(
        'https://x.example',
      );
      expect(usageError(['tail', 'demo'], { PORT: 'x' }).message).toMatch(
        /^environment variable PORT/,
      );
    });

    it('takes the base URL from STREAM_URL, --url over it, without a trailing slash', () => {
      expect(parseTail(['demo'], { STREAM_URL: 'https://abc.lambda-url.aws/' }).baseUrl).toBe(
        'https://abc.lambda-url.aws',
      );
      expect(
        parseTail(['demo', '--url', 'http://127.0.0.1:1234'], { STREAM_URL: 'https://x.example' })
          .baseUrl,
      ).toBe('http://127.0.0.1:1234');
    });

    it('asks for the envelope with --envelope, and always with several channels', () => {
      expect(parseTail(['demo', '--envelope']).envelope).toBe(true);
      expect(parseTail(['a', 'b'])).toMatchObject({ channels: ['a', 'b'], envelope: true });
      expect(parseTail(['a', 'a']).channels).toEqual(['a']);
    });

    it('reads --from as latest, earliest or an opaque cursor', () => {
      expect(parseTail(['demo', '--from', 'latest']).from).toEqual({ kind: 'latest' });
      expect(parseTail(['demo', '--from', 'earliest']).from).toEqual({ kind: 'earliest' });
      expect(parseTail(['demo', '--from', '1.eyJhIjoxfQ']).from).toEqual({
        kind: 'cursor',
        cursor: '1.eyJhIjoxfQ',
      });
    });

    it('takes --json and a token from --token or STREAM_TOKEN', () => {
      expect(parseTail(['demo', '--json']).json).toBe(true);
      expect(parseTail(['demo'], { STREAM_TOKEN: 'env-t' }).token).toBe('env-t');
      expect(parseTail(['demo', '--token', 't'], { STREAM_TOKEN: 'env-t' }).token).toBe('t');
    });

    it.each([
      [['tail'], /at least one channel/],
      [['tail', 'demo', '--url', 'ftp://x'], /http\(s\)/],
      [['tail', 'demo', '--url', 'http://x/?a=1'], /query or fragment/],
      [['tail', 'demo', '--follow'], /Unknown option '--follow'/],
      [['tail', 'demo', '--from'], /--from/],
    ])('refuses %j with a usage error', (argv, pattern) => {
      const error = usageError(argv);
      expect(error.message).toMatch(pattern);
      expect(error.usage).toBe(TAIL_USAGE);
    });

    it('builds the /events URL: every channel, envelope=1, lastEventId for the start', () => {
      const url = eventsUrl(parseTail(['a', 'b/c', '--from', 'earliest', '--url', 'https://h/p/']));
      expect(url.href).toBe(
        'https://h/p/events?channel=a&channel=b%2Fc&envelope=1&lastEventId=earliest',
      );
      expect(eventsUrl(parseTail(['demo'])).href).toBe(`${LOCAL_BASE_URL}/events?channel=demo`);
      expect(eventsUrl(parseTail(['demo', '--from', '1.x'])).searchParams.get('lastEventId')).toBe(
        '1.x',
      );
    });
  });

  it('shows the main usage for no arguments, --help and help, and a command usage for help <command>', () => {
    for (const argv of [[], ['--help'], ['-h'], ['help']]) {
      expect(parseCommandLine(argv)).toEqual({ kind: 'help', text: MAIN_USAGE });
    }
    expect(parseCommandLine(['help', 'tail'])).toEqual({ kind: 'help', text: TAIL_USAGE });
  });

  it('refuses an unknown command with the main usage', () => {
    const error = usageError(['subscribe', 'demo']);
    expect(error.message).toBe('unknown command "subscribe"');
    expect(error.usage).toBe(MAIN_USAGE);
  });

  it('finds the region of an SNS topic ARN', () => {
    expect(regionOfArn(AWS_ARN)).toBe('eu-west-1');
    expect(regionOfArn('arn:aws-cn:sns:cn-north-1:123456789012:t')).toBe('cn-north-1');
    expect(regionOfArn('not-an-arn')).toBeUndefined();
  });
});

describe('Function: toRecord', () => {
  it('takes a plain event: its SSE type as the name, the only channel, no stored time', () => {
    expect(toRecord(message({ type: 'order.updated' }), SINGLE)).toEqual({
      type: 'event',
      id: '1.eyJkZW1vIjoxfQ',
      channel: 'demo',
      event: 'order.updated',
      data: 'hello',
      time: null,
      received: RECEIVED,
    });
  });

  it('takes channel, event, data and time from the envelope', () => {
    const envelope = {
      id: 'c1',
      channel: 'orders/42',
      event: 'order.updated',
      data: '{"a":1}\nsecond',
      time: '2026-01-02T03:04:05.000Z',
    };
    const record = toRecord(message({ id: 'c1', data: JSON.stringify(envelope) }), ENVELOPED);
    expect(record).toEqual({
      type: 'event',
      id: 'c1',
      channel: 'orders/42',
      event: 'order.updated',
      data: '{"a":1}\nsecond',
      time: '2026-01-02T03:04:05.000Z',
      received: RECEIVED,
    });
  });

  it('shows data that is not an envelope as it came, channel unknown among several', () => {
    expect(toRecord(message({ data: 'not json' }), ENVELOPED)).toMatchObject({
      type: 'event',
      channel: null,
      event: 'message',
      data: 'not json',
    });
  });

  it('reads stream.reset notices and stream.open', () => {
    const reset = toRecord(
      message({
        type: 'stream.reset',
        data: '{"channel":"demo","reason":"expired","missed":3}',
      }),
      SINGLE,
    );
    expect(reset).toMatchObject({ type: 'reset', channel: 'demo', reason: 'expired', missed: 3 });
    expect(
      toRecord(message({ type: 'stream.open', data: '{"channels":["a","b"]}' }), SINGLE),
    ).toMatchObject({ type: 'open', channels: ['a', 'b'] });
    expect(toRecord(message({ type: 'stream.reset', data: '??' }), SINGLE)).toMatchObject({
      type: 'reset',
      channel: null,
      reason: null,
      data: '??',
    });
  });
});

describe('Function: formatHuman', () => {
  const event = (over: Partial<EventRecord> = {}): EventRecord => ({
    type: 'event',
    id: '1.eyJkZW1vIjoxfQ',
    channel: 'demo',
    event: 'message',
    data: 'hello',
    time: null,
    received: RECEIVED,
    ...over,
  });
  const plain = { showChannel: false, color: false };
  const tag = shortId('1.eyJkZW1vIjoxfQ');

  it('prints time of arrival, short id, event name and data on one line', () => {
    expect(formatHuman(event(), plain)).toBe(`03:04:05.006  ${tag}  message  hello`);
  });

  it('indents further lines of multi-line data under the first, whatever the line breaks', () => {
    const text = formatHuman(event({ event: 'greeting', data: 'line 1\nline 2\r\nline 3' }), plain);
    const indent = ' '.repeat(`03:04:05.006  ${tag}  greeting  `.length);
    expect(text).toBe(`03:04:05.006  ${tag}  greeting  line 1\n${indent}line 2\n${indent}line 3`);
  });

  it('with an envelope shows the channel and the stored time instead of the arrival', () => {
    const stored = new Date(2026, 0, 2, 1, 2, 3, 4);
    const text = formatHuman(event({ channel: 'orders/42', time: stored.toISOString() }), {
      showChannel: true,
      color: false,
    });
    expect(text).toBe(`01:02:03.004  ${tag}  orders/42  message  hello`);
  });

  it('makes a stream.reset stand out, explained in words', () => {
    const reset: ResetRecord = {
      type: 'reset',
      id: 'c9',
      channel: 'demo',
      reason: 'expired',
      missed: 3,
      data: '{}',
      received: RECEIVED,
    };
    expect(formatHuman(reset, plain)).toBe(
      `03:04:05.006  ${shortId('c9')}  !! stream.reset on demo: expired: 3 events missed ` +
        '(they left retention); continuing from the oldest retained event',
    );
    expect(formatHuman({ ...reset, reason: 'ahead', missed: null }, plain)).toMatch(
      /!! stream\.reset on demo: ahead: the resume point is beyond the newest event/,
    );
  });

  it('escapes terminal control sequences and direction overrides in data', () => {
    const text = formatHuman(event({ data: '\u001b[31mred\u0007 \u202Eevil' }), plain);
    expect(text).toBe(`03:04:05.006  ${tag}  message  \\x1b[31mred\\x07 \\u{202e}evil`);
    expect(sanitize('tab\tkept')).toBe('tab\tkept');
  });

  it('marks empty data, colours only when asked, and prints nothing for stream.open', () => {
    expect(formatHuman(event({ data: '' }), plain)).toBe(`03:04:05.006  ${tag}  message  (empty)`);
    expect(formatHuman(event(), { showChannel: true, color: true })).toContain('\u001b[36mdemo');
    expect(
      formatHuman({ type: 'open', id: 'x', channels: ['demo'], received: RECEIVED }, plain),
    ).toBeUndefined();
  });

  it('gives every id a stable 7-digit tag', () => {
    expect(shortId('1.eyJkZW1vIjoxfQ')).toMatch(/^#[0-9a-f]{7}$/);
    expect(shortId('1.eyJkZW1vIjoxfQ')).toBe(tag);
    expect(shortId('1.eyJkZW1vIjoyfQ')).not.toBe(tag);
  });
});

describe('Function: formatJson', () => {
  it('prints one line per record, data verbatim and dates in ISO 8601', () => {
    const line = formatJson(toRecord(message({ type: 'greeting', data: 'a\nb' }), SINGLE));
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      type: 'event',
      id: '1.eyJkZW1vIjoxfQ',
      channel: 'demo',
      event: 'greeting',
      data: 'a\nb',
      time: null,
      received: RECEIVED.toISOString(),
    });
  });

  it('prints resets and opens with their own type', () => {
    const reset = toRecord(
      message({ type: 'stream.reset', data: '{"channel":"demo","reason":"ahead"}' }),
      SINGLE,
    );
    expect(JSON.parse(formatJson(reset))).toEqual({
      type: 'reset',
      id: '1.eyJkZW1vIjoxfQ',
      channel: 'demo',
      reason: 'ahead',
      missed: null,
      data: '{"channel":"demo","reason":"ahead"}',
      received: RECEIVED.toISOString(),
    });
    const open = toRecord(message({ type: 'stream.open', data: '{"channels":["demo"]}' }), SINGLE);
    expect(JSON.parse(formatJson(open))).toEqual({
      type: 'open',
      id: '1.eyJkZW1vIjoxfQ',
      channels: ['demo'],
      received: RECEIVED.toISOString(),
    });
  });
});

describe('Function: describeHttpError', () => {
  it("shows the contract's JSON error as status, code and message", () => {
    const body = '{"error":{"code":"invalid_parameter","message":"channel: bad"}}';
    expect(describeHttpError(400, body)).toBe('HTTP 400 invalid_parameter: channel: bad');
  });

  it('shows the start of any other answer', () => {
    expect(describeHttpError(403, '<html>Forbidden</html>')).toBe(
      'HTTP 403: <html>Forbidden</html>',
    );
    expect(describeHttpError(401, '')).toBe('HTTP 401');
    expect(describeHttpError(400, 'x'.repeat(300))).toHaveLength('HTTP 400: '.length + 201);
  });
});

describe('Command: publish', () => {
  const sns = mockClient(SNSClient);
  const args = (over: Partial<PublishArgs> = {}): PublishArgs => ({
    ...parsePublish(['demo', 'hello']),
    ...over,
  });
  const noStdin = () => Promise.reject(new Error('stdin not expected'));

  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });
  afterAll(() => sns.restore());

  it('publishes through the SDK with the channel and event attributes, and prints the MessageId', async () => {
    const { out, err, io } = captureIo();
    const code = await runPublish(args({ event: 'greeting', dedupeId: 'd-1' }), {
      ...io,
      readStdin: noStdin,
    });
    expect({ code, out, err }).toEqual({ code: 0, out: ['m-1'], err: [] });
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      TopicArn: LOCAL_TOPIC_ARN,
      Message: 'hello',
      MessageAttributes: {
        channel: { DataType: 'String', StringValue: 'demo' },
        event: { DataType: 'String', StringValue: 'greeting' },
        dedupeId: { DataType: 'String', StringValue: 'd-1' },
      },
    });
  });

  it("reads '-' data from stdin, less one trailing line break", async () => {
    const { io } = captureIo();
    const bytes = new TextEncoder().encode('line 1\nline 2\n');
    const code = await runPublish(args({ data: { kind: 'stdin' } }), {
      ...io,
      readStdin: async () => bytes,
    });
    expect(code).toBe(0);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toBe('line 1\nline 2');
  });

  it('exits 2 with one line naming the field for a message the contract refuses, sending nothing', async () => {
    const { out, err, io } = captureIo();
    const code = await runPublish(args({ event: 'stream.open' }), { ...io, readStdin: noStdin });
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual([
      'publish: invalid event: event "stream.open" is reserved (open, error and stream.* cannot be published) [RESERVED_EVENT_NAME]',
    ]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('exits 2 for a malformed topic ARN and for stdin that is not UTF-8', async () => {
    const { err, io } = captureIo();
    expect(await runPublish(args({ topicArn: 'nope' }), { ...io, readStdin: noStdin })).toBe(2);
    expect(err[0]).toMatch(/^publish: --topic-arn "nope" is not an SNS topic ARN/);
    const invalidUtf8 = async () => new Uint8Array([0xc3, 0x28]);
    const stdin = args({ data: { kind: 'stdin' } });
    expect(await runPublish(stdin, { ...io, readStdin: invalidUtf8 })).toBe(2);
    expect(err[1]).toBe('publish: stdin is not valid UTF-8 text');
  });

  it('exits 1 when SNS fails, naming the topic and the endpoint', async () => {
    sns.on(PublishCommand).rejects(new Error('AuthorizationError: not allowed'));
    const { err, io } = captureIo();
    expect(await runPublish(args(), { ...io, readStdin: noStdin })).toBe(1);
    expect(err).toEqual([
      `publish: could not publish to ${LOCAL_TOPIC_ARN} via ${LOCAL_SNS_ENDPOINT}: AuthorizationError: not allowed`,
    ]);
  });

  it('hints at npm start when the local endpoint refuses the connection', () => {
    const refused = new AggregateError(
      [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8787'), { code: 'ECONNREFUSED' })],
      '',
    );
    expect(describeSendError(refused, args())).toBe(
      `could not publish to ${LOCAL_TOPIC_ARN} via ${LOCAL_SNS_ENDPOINT}: ` +
        'connect ECONNREFUSED 127.0.0.1:8787; is the local stack running (npm start)?',
    );
  });

  it('names the AWS region, and hints at credentials when the default chain finds none', () => {
    const aws = parsePublish(['demo', 'x', '--topic-arn', AWS_ARN]);
    const noCredentials = Object.assign(
      new Error('Could not load credentials from any providers'),
      {
        name: 'CredentialsProviderError',
      },
    );
    expect(describeSendError(noCredentials, aws)).toBe(
      `could not publish to ${AWS_ARN} via AWS (eu-west-1): CredentialsProviderError: ` +
        'Could not load credentials from any providers; configure AWS credentials ' +
        '(AWS_PROFILE, …) or pass --endpoint for a local stack',
    );
  });

  it('gives a loopback endpoint dummy credentials and anything else the default chain', () => {
    expect(snsClientConfig({ endpoint: LOCAL_SNS_ENDPOINT, region: 'us-east-1' })).toEqual({
      endpoint: LOCAL_SNS_ENDPOINT,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    expect(snsClientConfig({ endpoint: undefined, region: 'eu-west-1' })).toEqual({
      region: 'eu-west-1',
    });
    expect(isLoopback('http://localhost:8787/sns')).toBe(true);
    expect(isLoopback('http://[::1]:8787/sns')).toBe(true);
    expect(isLoopback('https://sns.us-east-1.amazonaws.com')).toBe(false);
  });

  it('decodes stdin data as UTF-8 and drops only one trailing line break', () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(decodeStdinData(bytes('héllo\r\n'))).toBe('héllo');
    expect(decodeStdinData(bytes('a\n\n'))).toBe('a\n');
    expect(decodeStdinData(bytes(''))).toBe('');
  });

  it('as a child process exits 2 for a reserved event name, with a message naming event', async () => {
    const result = await runCli(['publish', 'demo', 'hi', '--event', 'stream.boom']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^publish: invalid event: event "stream\.boom" is reserved/m);
  });
});

/** A scripted server for `fetch`: each call takes the next answer. */
function scriptedFetch(answers: ((init: RequestInit) => Response)[]) {
  const calls: { url: string; headers: Headers }[] = [];
  const fake = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(url), headers: new Headers(init?.headers) });
    const answer = answers.shift();
    if (answer === undefined) throw new Error('no more scripted answers');
    return answer(init ?? {});
  };
  return { fetch: fake as typeof fetch, calls };
}

/** An event stream that sends `text` and then stays open until the client aborts. */
function stream(text: string, { end = false } = {}) {
  return (init: RequestInit): Response => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(text));
        if (end) controller.close();
        else
          init.signal?.addEventListener('abort', () =>
            controller.error(new DOMException('aborted', 'AbortError')),
          );
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
}

const jsonError = (status: number, code: string, text: string) => () =>
  new Response(JSON.stringify({ error: { code, message: text } }), {
    status,
    headers: { 'content-type': 'application/json' },
  });

describe('Command: tail', () => {
  const OPEN = 'retry: 10\nid: c0\nevent: stream.open\ndata: {"channels":["demo"]}\n\n';

  it('prints every event, whatever its name, then stops on the signal with the id to resume from', async () => {
    const server = scriptedFetch([
      stream(
        `${OPEN}id: c1\ndata: hello\n\nid: c2\nevent: greeting\ndata: line 1\ndata: line 2\n\n`,
      ),
    ]);
    const { out, err, io } = captureIo();
    const stop = new AbortController();
    const done = runTail(parseTail(['demo', '--json', '--token', 'secret']), {
      ...io,
      signal: stop.signal,
      color: false,
      fetch: server.fetch,
    });
    await waitFor(() => out.length === 3, 'three lines');
    stop.abort();
    expect(await done).toBe(0);
    const lines = out.map((l) => JSON.parse(l) as { type: string; event?: string; data?: string });
    expect(lines.map((l) => [l.type, l.event, l.data])).toEqual([
      ['open', undefined, undefined],
      ['event', 'message', 'hello'],
      ['event', 'greeting', 'line 1\nline 2'],
    ]);
    expect(err).toEqual([
      `tail: connected to ${LOCAL_BASE_URL}/events?channel=demo`,
      'tail: stopped; resume with --from c2',
    ]);
    expect(server.calls[0]?.headers.get('authorization')).toBe('Bearer secret');
  });

  it('prints readable lines, reports stream.open on stderr and shows a reset distinctly', async () => {
    const reset = 'id: c5\nevent: stream.reset\ndata: {"channel":"demo","reason":"ahead"}\n\n';
    const server = scriptedFetch([stream(`${OPEN}${reset}id: c6\ndata: a\ndata: b\n\n`)]);
    const { out, err, io } = captureIo();
    const stop = new AbortController();
    const done = runTail(parseTail(['demo']), {
      ...io,
      signal: stop.signal,
      color: false,
      fetch: server.fetch,
      now: () => RECEIVED,
    });
    await waitFor(() => out.length === 2, 'two lines');
    stop.abort();
    await done;
    expect(out[0]).toMatch(/^03:04:05\.006 {2}#[0-9a-f]{7} {2}!! stream\.reset on demo: ahead/);
    expect(out[1]).toBe(`03:04:05.006  ${shortId('c6')}  message  a\n${' '.repeat(33)}b`);
    expect(err[1]).toBe(`tail: subscribed to demo at ${shortId('c0')}`);
  });

  it('on a 4xx reads the JSON error with a plain fetch, prints its message and exits 1', async () => {
    const refuse = jsonError(400, 'invalid_parameter', 'channel: "a b" must match …');
    const server = scriptedFetch([refuse, refuse]);
    const { out, err, io } = captureIo();
    const code = await runTail(parseTail(['a b']), {
      ...io,
      signal: new AbortController().signal,
      color: false,
      fetch: server.fetch,
    });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual(['tail: HTTP 400 invalid_parameter: channel: "a b" must match …']);
    expect(server.calls.map((c) => c.url)).toEqual([
      `${LOCAL_BASE_URL}/events?channel=a+b`,
      `${LOCAL_BASE_URL}/events?channel=a+b`,
    ]);
  });

  it('retries a 5xx and reconnects after the server ends a stream, resuming from the last id', async () => {
    const server = scriptedFetch([
      () => new Response('busy', { status: 503 }),
      stream(`${OPEN}id: c1\ndata: one\n\n`, { end: true }),
      stream('id: c2\ndata: two\n\n'),
    ]);
    const { out, err, io } = captureIo();
    const stop = new AbortController();
    const done = runTail(parseTail(['demo', '--json', '--from', 'earliest']), {
      ...io,
      signal: stop.signal,
      color: false,
      fetch: server.fetch,
      retryDelayMs: 10,
    });
    await waitFor(() => out.length === 3, 'open and two events');
    stop.abort();
    expect(await done).toBe(0);
    expect(out.map((l) => (JSON.parse(l) as { data?: string }).data)).toEqual([
      undefined,
      'one',
      'two',
    ]);
    expect(err).toEqual([
      'tail: server answered HTTP 503; retrying in 10 ms',
      `tail: connected to ${LOCAL_BASE_URL}/events?channel=demo&lastEventId=earliest`,
      'tail: the server ended the stream; reconnecting',
      'tail: reconnected',
      'tail: stopped; resume with --from c2',
    ]);
    expect(server.calls[2]?.headers.get('last-event-id')).toBe('c1');
  });
});

describe('Command: main', () => {
  function mainIo(over: Partial<MainIo> = {}) {
    const { out, err, io } = captureIo();
    const full: MainIo = {
      ...io,
      env: {},
      readStdin: () => Promise.reject(new Error('no stdin')),
      color: false,
      stopSignal: () => new AbortController().signal,
      ...over,
    };
    return { out, err, io: full };
  }

  it('prints usage and exits 2 for an unknown command', async () => {
    const { out, err, io } = mainIo();
    expect(await main(['nope'], io)).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual(['error: unknown command "nope"\n', MAIN_USAGE]);
  });

  it('prints help on stdout and exits 0', async () => {
    const { out, io } = mainIo();
    expect(await main(['tail', '--help'], io)).toBe(0);
    expect(out).toEqual([TAIL_USAGE]);
  });
});

interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment for child processes: nothing that would redirect them elsewhere. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.TOPIC_ARN;
  delete env.STREAM_URL;
  delete env.STREAM_TOKEN;
  return env;
}

/**
 * The tool as a child process, its output collected as it comes: `npx tsx cli/main.ts …`
 * as a user runs it, or `node --import tsx cli/main.ts …` where the exit code on a signal
 * matters. The tsx command relays signals to its child with a 30 ms watchdog that
 * SIGKILLs a child it did not hear back from, which on a busy machine turns a clean exit
 * into 130; with the loader alone the signal and the exit code are the program's own.
 */
function spawnCli(args: readonly string[], via: 'npx' | 'node' = 'npx') {
  // Its own process group, so that cleanup can end npx, tsx and node together.
  const options = { cwd: ROOT, env: childEnv(), detached: true };
  const child =
    via === 'npx'
      ? spawn('npx', ['tsx', 'cli/main.ts', ...args], options)
      : spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], options);
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
  });
  const exited = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, ...output }));
  });
  return { child, output, exited };
}

/** Ctrl-C as a terminal sends it: SIGINT to the whole process group (npx, tsx, node). */
function interrupt(child: ChildProcess): void {
  if (child.pid !== undefined) process.kill(-child.pid, 'SIGINT');
}

async function runCli(args: readonly string[]): Promise<CliResult> {
  return spawnCli(args).exited;
}

interface JsonLine {
  readonly type: string;
  readonly id: string;
  readonly channel?: string;
  readonly event?: string;
  readonly data?: string;
}

function jsonLines(stdout: string): JsonLine[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as JsonLine);
}

describe('Feature: CLI end to end against the local stack', () => {
  let stack: LocalStack;
  let children: ChildProcess[] = [];

  beforeAll(async () => {
    // Its default topic, whatever TOPIC_ARN says: the CLI's defaults are checked against it.
    stack = await startLocalStack({ port: 0, inMemory: true, env: { TOPIC_ARN: undefined } });
  });

  afterEach(() => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    children = [];
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it("defaults to the local stack's port and topic ARN", () => {
    expect(new URL(LOCAL_BASE_URL).port).toBe(String(DEFAULT_PORT));
    expect(new URL(LOCAL_SNS_ENDPOINT).port).toBe(String(DEFAULT_PORT));
    expect(stack.topicArn).toBe(LOCAL_TOPIC_ARN);
  });

  // Three child processes through npx, and the writer path in between: more than the
  // default 30 s on a slow machine.
  it('tail --json prints two events published by publish, in order', {
    timeout: 60_000,
  }, async () => {
    const tail = spawnCli(['tail', 'demo', '--url', stack.url, '--json']);
    children.push(tail.child);
    // Subscribed once the stream's first event (stream.open, with the starting id) is out.
    const shown = () => `\nstdout: ${tail.output.stdout}\nstderr: ${tail.output.stderr}`;
    await waitFor(() => tail.output.stdout.includes('"type":"open"'), 'the tail', 20_000, shown);

    const target = ['--endpoint', `${stack.url}/sns`, '--topic-arn', stack.topicArn];
    const first = await runCli(['publish', 'demo', 'hello', ...target]);
    expect(first).toMatchObject({ code: 0, stderr: expect.not.stringMatching(/publish:/) });
    const second = await runCli([
      'publish',
      'demo',
      'line 1\nline 2',
      '--event',
      'greeting',
      '--dedupe-id',
      'cli-e2e-2',
      ...target,
    ]);
    expect(second.code).toBe(0);
    expect(first.stdout.trim()).not.toBe('');
    expect(second.stdout.trim()).not.toBe(first.stdout.trim());

    const events = () => jsonLines(tail.output.stdout).filter((l) => l.type === 'event');
    await waitFor(() => events().length >= 2, 'two events on the tail', 20_000, shown);
    expect(events().map((e) => [e.channel, e.event, e.data])).toEqual([
      ['demo', 'message', 'hello'],
      ['demo', 'greeting', 'line 1\nline 2'],
    ]);

    // Ctrl-C. npm (npx) dies of the SIGINT itself, whatever its child does: the tail's own
    // clean stop and exit code are checked in the next test.
    interrupt(tail.child);
    await tail.exited;
  });

  it('tail stops cleanly on Ctrl-C (SIGINT) with exit code 0', async () => {
    const tail = spawnCli(['tail', 'demo', '--url', stack.url], 'node');
    children.push(tail.child);
    await waitFor(() => tail.output.stderr.includes('subscribed to demo'), 'subscribed', 20_000);
    interrupt(tail.child);
    const ended = await tail.exited;
    expect(ended).toMatchObject({ code: 0, signal: null });
    expect(ended.stderr).toMatch(/tail: stopped; resume with --from 1\./);
  });

  it('tail exits 1 with the server message for a refused subscription', async () => {
    const result = await spawnCli(['tail', 'bad channel!', '--url', stack.url], 'node').exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/tail: HTTP 400 invalid_parameter: channel: "bad channel!"/);
  });
});
