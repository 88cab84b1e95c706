/**
 * `publish`: one event through the publisher SDK, so the contract is checked before
 * anything is sent, exactly as a backend service would see it.
 */
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { createPublisher, InvalidMessageError, PublisherConfigError } from '../publisher/index.js';
import { PUBLISH_USAGE, type PublishArgs, UsageError } from './args.js';

export interface PublishIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** The whole of stdin, for data `-`. */
  readonly readStdin: () => Promise<Uint8Array>;
  /** Creates the SNS client (tests pass a mock); default `new SNSClient(config)`. */
  readonly createClient?: (config: SNSClientConfig) => SNSClient;
}

/**
 * Payload read from stdin: UTF-8 (refused otherwise, rather than sending U+FFFD in place
 * of what the user had), less one trailing line break, which `echo` and editors add and
 * nobody means to publish.
 * @throws UsageError if the bytes are not UTF-8.
 */
export function decodeStdinData(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new UsageError('stdin is not valid UTF-8 text', PUBLISH_USAGE);
  }
  return text.replace(/\r?\n$/, '');
}

/** Whether an endpoint is this machine: the local stack, which takes any credentials. */
export function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/**
 * The SNS client configuration for the arguments. A loopback endpoint gets fixed dummy
 * credentials: the local stack ignores them, they need no AWS setup, and real credentials
 * from the environment are not handed to a local process. Any other endpoint, or none
 * (real AWS), uses the SDK's default credential chain.
 */
export function snsClientConfig(args: Pick<PublishArgs, 'endpoint' | 'region'>): SNSClientConfig {
  const config: SNSClientConfig = {};
  if (args.region !== undefined) config.region = args.region;
  if (args.endpoint !== undefined) {
    config.endpoint = args.endpoint;
    if (isLoopback(args.endpoint)) {
      config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    }
  }
  return config;
}

/** One line for an invalid message, naming the field: `invalid event: event "…" is reserved …`. */
export function describeInvalidMessage(error: InvalidMessageError): string {
  const message = error.message.startsWith(error.field)
    ? error.message
    : `${error.field}: ${error.message}`;
  return `invalid ${error.field}: ${message} [${error.code}]`;
}

/** An SDK or network failure in one line, with a hint where one helps. */
export function describeSendError(
  error: unknown,
  args: Pick<PublishArgs, 'endpoint' | 'topicArn' | 'region'>,
): string {
  const where = args.endpoint ?? `AWS (${args.region ?? 'default region'})`;
  const text = flatten(error);
  const name = error instanceof Error ? error.name : 'Error';
  const code = errorCode(error);
  let hint = '';
  if (code === 'ECONNREFUSED' && args.endpoint !== undefined && isLoopback(args.endpoint)) {
    hint = '; is the local stack running (npm start)?';
  } else if (name === 'CredentialsProviderError') {
    hint = '; configure AWS credentials (AWS_PROFILE, …) or pass --endpoint for a local stack';
  }
  // The class name adds nothing for a plain or aggregate error, or when the text has it.
  const plain = name === 'Error' || name === 'AggregateError' || text.startsWith(name);
  return `could not publish to ${args.topicArn} via ${where}: ${plain ? '' : `${name}: `}${text}${hint}`;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  // Node reports a refused dual-stack connection as an AggregateError of both attempts.
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const found = errorCode(inner);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function flatten(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map(flatten).join(', ');
  }
  return error.message === '' ? error.name : error.message;
}

/** Publishes; returns the exit code (0, 1 SNS or network failure, 2 invalid input). */
export async function runPublish(args: PublishArgs, io: PublishIo): Promise<number> {
  let data: string;
  if (args.data.kind === 'stdin') {
    try {
      data = decodeStdinData(await io.readStdin());
    } catch (error) {
      if (error instanceof UsageError) {
        io.err(`publish: ${error.message}`);
        return 2;
      }
      throw error;
    }
  } else {
    data = args.data.text;
  }

  const config = snsClientConfig(args);
  const client = io.createClient?.(config) ?? new SNSClient(config);
  try {
    const publisher = createPublisher({ topicArn: args.topicArn, client });
    const result = await publisher.publish(args.channel, data, {
      event: args.event,
      dedupeId: args.dedupeId,
    });
    io.out(result.messageId);
    if (result.sequenceNumber !== undefined) {
      io.err(`publish: sequence number ${result.sequenceNumber}`);
    }
    return 0;
  } catch (error) {
    if (error instanceof InvalidMessageError) {
      io.err(`publish: ${describeInvalidMessage(error)}`);
      return 2;
    }
    if (error instanceof PublisherConfigError) {
      io.err(`publish: ${error.message.replace(/^topicArn /, '--topic-arn ')}`);
      return 2;
    }
    io.err(`publish: ${describeSendError(error, args)}`);
    return 1;
  } finally {
    client.destroy();
  }
}
