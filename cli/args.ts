/**
 * The command line, parsed and resolved against the environment: pure (no I/O), so that
 * every rule below is tested without a process. Parsing uses node:util `parseArgs` in
 * strict mode; anything it refuses, and every value that cannot work, becomes a
 * {@link UsageError} (exit code 2) carrying the usage text to show.
 */
import { parseArgs } from 'node:util';
import {
  DEFAULT_LOCAL_BASE_URL,
  DEFAULT_LOCAL_TOPIC_ARN,
  DEFAULT_PORT,
} from '../local/defaults.js';

/** Where `npm start` serves everything when PORT is unset (DESIGN.md, "Local stack"). */
export const LOCAL_BASE_URL = DEFAULT_LOCAL_BASE_URL;
export const LOCAL_SNS_ENDPOINT = `${LOCAL_BASE_URL}/sns`;
export const LOCAL_TOPIC_ARN = DEFAULT_LOCAL_TOPIC_ARN;

/**
 * The local stack's base URL for this environment: `npm start` listens on `PORT`, so the
 * tool run with the same variable finds it there.
 * @throws UsageError when PORT is not a port number
 */
export function localBaseUrl(env: CliEnv, usage: string): string {
  const raw = orUndefined(env.PORT);
  if (raw === undefined) return LOCAL_BASE_URL;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65_535) {
    throw new UsageError(
      `environment variable PORT must be a port number from 1 to 65535, got ${JSON.stringify(raw)}`,
      usage,
    );
  }
  return `http://127.0.0.1:${port}`;
}

/** How the tool is started; shown in usage lines. */
const PROG = 'npm run cli --';

export const MAIN_USAGE = `usage: ${PROG} <command> [options]
       (or: npx tsx cli/main.ts <command> [options])

Publish to a channel and tail channels, on the local stack (npm start) or a deployed stack.

commands:
  publish <channel> <data|->   publish one event (through the publisher SDK)
  tail <channel…>              print a channel's events as they arrive (Ctrl-C to stop)
  verify                       check a deployment (or the local stack) keeps the contract
  help [command]               show this text, or a command's

Run '${PROG} <command> --help' for a command's options.`;

export const PUBLISH_USAGE = `usage: ${PROG} publish <channel> <data|-> [options]

Publishes one event with the publisher SDK and prints its SNS MessageId.
<data> is the payload as text; '-' reads it from stdin (one trailing line break is
dropped, so 'echo hi | … publish demo -' publishes "hi"). Use '--' before data that
starts with '-': publish demo -- -1

options:
  --event NAME        event name (default: message; open, error, stream.* are reserved)
  --dedupe-id ID      publishing twice with the same channel and id stores the event once
  --topic-arn ARN     the stack's topic (env TOPIC_ARN); without it: the local stack's
                      ${LOCAL_TOPIC_ARN}
  --endpoint URL      SNS endpoint; default the local stack's, http://127.0.0.1:$PORT/sns
                      (PORT as npm start uses it, else ${DEFAULT_PORT}), unless a topic ARN
                      is given, in which case real AWS with the default credential chain
  --region R          AWS region (default: the topic ARN's region)
  -h, --help          show this text

exit codes: 0 published, 1 SNS or network failure, 2 bad arguments or invalid message`;

export const TAIL_USAGE = `usage: ${PROG} tail <channel…> [options]

Subscribes to GET <url>/events and prints each event: time (when stored, with the
envelope; else when received), a short tag of its id, channel (with --envelope or
several channels), event name and data. stream.reset notices stand out; connection
changes go to stderr. Ctrl-C stops and prints the last id, which --from takes to
resume without loss.

options:
  --url BASE          stream base URL (env STREAM_URL; default the local stack's,
                      http://127.0.0.1:$PORT with PORT as npm start uses it, else ${DEFAULT_PORT})
  --from POINT        where to start: latest (default: only new events), earliest (oldest
                      retained event), or an event id printed earlier
  --envelope          ask for envelope=1: each event carries its channel and publish time
                      (always on with several channels)
  --json              one JSON object per line on stdout, for scripts:
                        {"type":"open","id","channels","received"}
                        {"type":"event","id","channel","event","data","time","received"}
                        {"type":"reset","id","channel","reason","missed","data","received"}
  --token JWT         token for private channels, sent as Authorization: Bearer
                      (env STREAM_TOKEN)
  -h, --help          show this text

exit codes: 0 stopped by Ctrl-C (or SIGTERM), 1 the server refused the subscription
(the message says why), 2 bad arguments`;

/** Bad command line: print `message`, then `usage`, and exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/** Where `publish` reads its payload from. */
export type DataSource =
  | { readonly kind: 'argument'; readonly text: string }
  | { readonly kind: 'stdin' };

export interface PublishArgs {
  readonly channel: string;
  readonly data: DataSource;
  readonly event: string | undefined;
  readonly dedupeId: string | undefined;
  readonly topicArn: string;
  /** `undefined`: real AWS, the SDK's own endpoint resolution. */
  readonly endpoint: string | undefined;
  /** `undefined`: the SDK's default region resolution (only when the ARN has none). */
  readonly region: string | undefined;
}

/** Where a tail starts: the `lastEventId` it sends (absent for latest). */
export type StartPoint =
  | { readonly kind: 'latest' }
  | { readonly kind: 'earliest' }
  | { readonly kind: 'cursor'; readonly cursor: string };

export interface TailArgs {
  readonly channels: readonly string[];
  /** Base URL without a trailing slash. */
  readonly baseUrl: string;
  readonly from: StartPoint;
  /** Whether the request asks for `envelope=1` (`--envelope`, or several channels). */
  readonly envelope: boolean;
  readonly json: boolean;
  readonly token: string | undefined;
}

export type Command =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'publish'; readonly args: PublishArgs }
  | { readonly kind: 'tail'; readonly args: TailArgs }
  | { readonly kind: 'verify'; readonly args: VerifyArgs };

/** The environment variables the tool reads. */
export interface CliEnv {
  readonly TOPIC_ARN?: string | undefined;
  readonly STREAM_URL?: string | undefined;
  readonly STREAM_TOKEN?: string | undefined;
  /** The HS256 token secret, as the local stack reads it (`verify`'s auth checks). */
  readonly AUTH_SECRET?: string | undefined;
  /** The local stack's port, as `npm start` reads it. */
  readonly PORT?: string | undefined;
}

const HELP_FLAGS = new Set(['-h', '--help']);

/**
 * Parses `argv` (without the node and script paths) into a command.
 * @throws UsageError for an unknown command, option or a value that cannot work.
 */
export function parseCommandLine(argv: readonly string[], env: CliEnv = {}): Command {
  const [command, ...rest] = argv;
  if (command === undefined || HELP_FLAGS.has(command)) return { kind: 'help', text: MAIN_USAGE };
  switch (command) {
    case 'help':
      return { kind: 'help', text: helpFor(rest[0]) };
    case 'publish':
      return parsePublish(rest, env);
    case 'tail':
      return parseTail(rest, env);
    case 'verify':
      return parseVerify(rest, env);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`, MAIN_USAGE);
  }
}

function helpFor(command: string | undefined): string {
  if (command === 'publish') return PUBLISH_USAGE;
  if (command === 'tail') return TAIL_USAGE;
  if (command === 'verify') return VERIFY_USAGE;
  if (command === undefined) return MAIN_USAGE;
  throw new UsageError(`unknown command ${JSON.stringify(command)}`, MAIN_USAGE);
}

/** Runs a `parseArgs` call, its TypeErrors (unknown option, missing value) as usage errors. */
function guarded<R>(usage: string, parse: () => R): R {
  try {
    return parse();
  } catch (error) {
    // ERR_PARSE_ARGS_UNKNOWN_OPTION, ERR_PARSE_ARGS_INVALID_OPTION_VALUE, …: the message
    // names the option; Node's hint about '--' is dropped (the usage text explains it).
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, ''), usage);
  }
}

const PUBLISH_OPTIONS = {
  event: { type: 'string' },
  'dedupe-id': { type: 'string' },
  'topic-arn': { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parsePublish(argv: readonly string[], env: CliEnv): Command {
  const { values, positionals } = guarded(PUBLISH_USAGE, () =>
    parseArgs({ args: [...argv], options: PUBLISH_OPTIONS, strict: true, allowPositionals: true }),
  );
  if (values.help === true) return { kind: 'help', text: PUBLISH_USAGE };
  const [channel, data, ...extra] = positionals;
  if (channel === undefined) throw new UsageError('publish needs a channel', PUBLISH_USAGE);
  if (data === undefined) {
    throw new UsageError("publish needs the data to publish (or '-' for stdin)", PUBLISH_USAGE);
  }
  if (extra.length > 0) {
    throw new UsageError(
      `publish takes one channel and one data argument; unexpected ${JSON.stringify(extra[0])} (quote data that has spaces)`,
      PUBLISH_USAGE,
    );
  }

  const { topicArn, endpoint } = snsTarget(values, env, PUBLISH_USAGE);
  const region = nonEmpty(values.region, '--region', PUBLISH_USAGE) ?? regionOfArn(topicArn);

  return {
    kind: 'publish',
    args: {
      channel,
      data: data === '-' ? { kind: 'stdin' } : { kind: 'argument', text: data },
      // Not checked here: the publisher SDK validates channel, event and dedupeId with
      // the contract's own rules and messages (InvalidMessageError, exit 2).
      event: values.event,
      dedupeId: values['dedupe-id'],
      topicArn,
      endpoint,
      region,
    },
  };
}

const TAIL_OPTIONS = {
  url: { type: 'string' },
  from: { type: 'string' },
  envelope: { type: 'boolean' },
  json: { type: 'boolean' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseTail(argv: readonly string[], env: CliEnv): Command {
  const { values, positionals } = guarded(TAIL_USAGE, () =>
    parseArgs({ args: [...argv], options: TAIL_OPTIONS, strict: true, allowPositionals: true }),
  );
  if (values.help === true) return { kind: 'help', text: TAIL_USAGE };
  // Channel names are checked by the server, which answers 400 naming the parameter.
  const channels = [...new Set(positionals)];
  if (channels.length === 0) throw new UsageError('tail needs at least one channel', TAIL_USAGE);

  return {
    kind: 'tail',
    args: {
      channels,
      baseUrl: streamBaseUrl(values.url, env, TAIL_USAGE),
      from: startPoint(nonEmpty(values.from, '--from', TAIL_USAGE)),
      envelope: values.envelope === true || channels.length > 1,
      json: values.json === true,
      token: nonEmpty(values.token, '--token', TAIL_USAGE) ?? orUndefined(env.STREAM_TOKEN),
    },
  };
}

export const VERIFY_USAGE = `usage: ${PROG} verify [options]

Checks that a stack keeps the subscribe contract, through whatever network, proxies and
CloudFront lie between: publishes its own events (on channels under its own prefix) and
reads them back over SSE, /poll and long-poll, with forced drops and resumes, framing,
headers, heartbeats and the documented errors. One PASS/FAIL/SKIP line per check, then a
summary; exit code 1 on any FAIL.

options:
  --url URL            the stack's StreamUrl (env STREAM_URL); default the local stack's
  --topic-arn ARN      the stack's topic (env TOPIC_ARN), published to with your AWS
                       credentials; without it: the local stack's /sns
  --endpoint URL       SNS endpoint (default: as for publish)
  --region R           AWS region (default: the topic ARN's region)
  --origin ORIGIN      also check CORS for a page on ORIGIN (e.g. https://app.example.com)
  --prefix P           channel prefix of the run (default: verify); each run adds its own id
  --heartbeat-seconds S  the stack's HEARTBEAT_SECONDS (default 15)
  --wait-seconds S     how long a check waits for an event (default 20)
  --private-prefix P   one of the stack's private channel prefixes (AUTH_PRIVATE_PREFIXES,
                       e.g. private/): with --token-secret, also checks 401/403 and that a
                       stream ends when its token expires
  --token-secret S     the HS256 secret tokens are signed with (env AUTH_SECRET; on AWS the
                       TokenSecretArn secret's value)
  --only NAMES         run only these checks (comma-separated names, as printed)
  --long               also wait out a stream's lifetime and resume across its end
  --lifetime-seconds S  the stack's STREAM_LIFETIME_SECONDS (default 300), for --long
  --json FILE          also write the results as JSON
  -h, --help           show this text

exit codes: 0 every check passed or was skipped, 1 a check failed, 2 bad arguments`;

export interface VerifyArgs {
  readonly url: string;
  readonly topicArn: string;
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
  readonly origin: string | undefined;
  readonly prefix: string;
  readonly heartbeatSeconds: number;
  readonly waitSeconds: number;
  readonly json: string | undefined;
  /** `--only`: the names of the checks to run; undefined for all. */
  readonly only: readonly string[] | undefined;
  /** With `--long`: the stack's stream lifetime, which the rotation check waits out. */
  readonly lifetimeSeconds: number | undefined;
  /** Both or neither: the auth checks run with them. */
  readonly auth: { readonly privatePrefix: string; readonly tokenSecret: string } | undefined;
}

const VERIFY_OPTIONS = {
  url: { type: 'string' },
  'topic-arn': { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  origin: { type: 'string' },
  prefix: { type: 'string' },
  'heartbeat-seconds': { type: 'string' },
  'wait-seconds': { type: 'string' },
  'private-prefix': { type: 'string' },
  'token-secret': { type: 'string' },
  only: { type: 'string' },
  long: { type: 'boolean' },
  'lifetime-seconds': { type: 'string' },
  json: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function verifyAuth(
  values: { readonly 'private-prefix'?: string; readonly 'token-secret'?: string },
  env: CliEnv,
): VerifyArgs['auth'] {
  const privatePrefix = nonEmpty(values['private-prefix'], '--private-prefix', VERIFY_USAGE);
  const tokenSecret =
    nonEmpty(values['token-secret'], '--token-secret', VERIFY_USAGE) ??
    orUndefined(env.AUTH_SECRET);
  if (privatePrefix === undefined && values['token-secret'] === undefined) return undefined;
  if (privatePrefix === undefined) {
    throw new UsageError(
      '--token-secret needs --private-prefix: which channels it is for',
      VERIFY_USAGE,
    );
  }
  if (tokenSecret === undefined) {
    throw new UsageError(
      '--private-prefix needs --token-secret (or AUTH_SECRET) to mint tokens for it',
      VERIFY_USAGE,
    );
  }
  return { privatePrefix, tokenSecret };
}

function onlyChecks(value: string | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0)
    throw new UsageError('--only needs at least one check name', VERIFY_USAGE);
  return names;
}

function lifetime(values: {
  readonly long?: boolean;
  readonly 'lifetime-seconds'?: string;
}): number | undefined {
  const given = seconds(values['lifetime-seconds'], '--lifetime-seconds', 300, 900);
  if (values.long === true) return given;
  if (values['lifetime-seconds'] !== undefined) {
    throw new UsageError('--lifetime-seconds is for --long', VERIFY_USAGE);
  }
  return undefined;
}

function seconds(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) {
    throw new UsageError(
      `${name} must be a whole number of seconds from 1 to ${max}, got ${JSON.stringify(value)}`,
      VERIFY_USAGE,
    );
  }
  return n;
}

function parseVerify(argv: readonly string[], env: CliEnv): Command {
  const { values, positionals } = guarded(VERIFY_USAGE, () =>
    parseArgs({ args: [...argv], options: VERIFY_OPTIONS, strict: true, allowPositionals: true }),
  );
  if (values.help === true) return { kind: 'help', text: VERIFY_USAGE };
  if (positionals.length > 0) {
    throw new UsageError(
      `verify takes no arguments; unexpected ${JSON.stringify(positionals[0])}`,
      VERIFY_USAGE,
    );
  }
  const url = streamBaseUrl(values.url, env, VERIFY_USAGE);
  const { topicArn, endpoint } = snsTarget(values, env, VERIFY_USAGE);
  const origin = nonEmpty(values.origin, '--origin', VERIFY_USAGE);
  if (origin !== undefined) httpUrl(origin, '--origin', VERIFY_USAGE);
  const prefix = nonEmpty(values.prefix, '--prefix', VERIFY_USAGE) ?? 'verify';
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,80}$/.test(prefix)) {
    throw new UsageError(
      `--prefix ${JSON.stringify(prefix)} is not the start of a channel name (letters, digits, . _ : / @ -; at most 81)`,
      VERIFY_USAGE,
    );
  }
  return {
    kind: 'verify',
    args: {
      url,
      topicArn,
      endpoint,
      region: nonEmpty(values.region, '--region', VERIFY_USAGE) ?? regionOfArn(topicArn),
      origin,
      prefix,
      heartbeatSeconds: seconds(values['heartbeat-seconds'], '--heartbeat-seconds', 15, 300),
      waitSeconds: seconds(values['wait-seconds'], '--wait-seconds', 20, 300),
      json: nonEmpty(values.json, '--json', VERIFY_USAGE),
      only: onlyChecks(values.only),
      lifetimeSeconds: lifetime(values),
      auth: verifyAuth(values, env),
    },
  };
}

/** `--url`, else STREAM_URL, else the local stack: a base URL without query, no trailing `/`. */
function streamBaseUrl(flag: string | undefined, env: CliEnv, usage: string): string {
  const raw = nonEmpty(flag, '--url', usage) ?? orUndefined(env.STREAM_URL);
  const url = httpUrl(
    raw ?? localBaseUrl(env, usage),
    flag === undefined ? 'STREAM_URL' : '--url',
    usage,
  );
  if (url.search !== '' || url.hash !== '') {
    throw new UsageError(
      `the stream base URL must not have a query or fragment: ${url.href}`,
      usage,
    );
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * The topic and SNS endpoint to publish to: `--topic-arn` (else TOPIC_ARN) on real AWS,
 * or the local stack's topic on its `/sns`. No endpoint means real AWS; the local
 * stack's is the default only with its own topic.
 */
function snsTarget(
  values: { readonly 'topic-arn'?: string | undefined; readonly endpoint?: string | undefined },
  env: CliEnv,
  usage: string,
): { topicArn: string; endpoint: string | undefined } {
  const explicitArn =
    nonEmpty(values['topic-arn'], '--topic-arn', usage) ?? orUndefined(env.TOPIC_ARN);
  const endpointFlag = nonEmpty(values.endpoint, '--endpoint', usage);
  let endpoint: string | undefined;
  if (endpointFlag !== undefined) endpoint = httpUrl(endpointFlag, '--endpoint', usage).href;
  else if (explicitArn === undefined) endpoint = `${localBaseUrl(env, usage)}/sns`;
  return { topicArn: explicitArn ?? LOCAL_TOPIC_ARN, endpoint };
}

function startPoint(from: string | undefined): StartPoint {
  if (from === undefined || from === 'latest') return { kind: 'latest' };
  if (from === 'earliest') return { kind: 'earliest' };
  // A cursor is opaque: the server says whether it is one it issued (400 otherwise).
  return { kind: 'cursor', cursor: from };
}

/** The URL the tail subscribes to. */
export function eventsUrl(args: Pick<TailArgs, 'baseUrl' | 'channels' | 'envelope' | 'from'>): URL {
  const url = new URL(`${args.baseUrl}/events`);
  for (const channel of args.channels) url.searchParams.append('channel', channel);
  if (args.envelope) url.searchParams.set('envelope', '1');
  if (args.from.kind === 'earliest') url.searchParams.set('lastEventId', 'earliest');
  if (args.from.kind === 'cursor') url.searchParams.set('lastEventId', args.from.cursor);
  return url;
}

/** `arn:<partition>:sns:<region>:…` → the region, so the SNS client calls the topic's region. */
export function regionOfArn(arn: string): string | undefined {
  const region = /^arn:[^:]+:sns:([a-z0-9-]+):/.exec(arn)?.[1];
  return region === undefined || region === '' ? undefined : region;
}

function orUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function nonEmpty(value: string | undefined, name: string, usage: string): string | undefined {
  if (value === '') throw new UsageError(`${name} needs a value`, usage);
  return value;
}

function httpUrl(value: string, name: string, usage: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${name} ${JSON.stringify(value)} is not a URL`, usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${name} ${JSON.stringify(value)} must be an http(s) URL`, usage);
  }
  return url;
}
